using MemoryNet.Architectures;
using MemoryNet.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Inference;

/// <summary>
/// Precision of a network for inference. bf16 converts the network and keeps in fp32 the parts it names
/// (<see cref="RestorationNet.KeepsFp32"/>: MemoryNet's memory modules). Every 4-D weight gets NHWC strides
/// (<see cref="ChannelsLast"/>): oneDNN then uses them without a layout change per call.
/// </summary>
public static class ModelLayout
{
    /// <summary>Converts the parameters of <paramref name="model"/> in place.</summary>
    public static void Apply(RestorationNet model, ScalarType backboneType)
    {
        if (backboneType != ScalarType.Float32)
        {
            model.to(backboneType);
            foreach (var (name, child) in model.named_children())
                if (model.KeepsFp32(name)) child.to(ScalarType.Float32);
        }
        ChannelsLast.ApplyToWeights(model);
    }
}
