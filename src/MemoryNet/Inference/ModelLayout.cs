using MemoryNet.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Inference;

/// <summary>
/// Precision of a network for inference. bf16 converts the convolutional backbone and keeps the memory modules
/// (softmax over prototypes with a 0.0025 shrink threshold) in fp32. Every 4-D weight gets NHWC strides
/// (<see cref="ChannelsLast"/>): oneDNN then uses them without a layout change per call.
/// </summary>
public static class ModelLayout
{
    /// <summary>Converts the parameters of <paramref name="model"/> in place.</summary>
    public static void Apply(MemoryNetModel model, ScalarType backboneType)
    {
        if (backboneType != ScalarType.Float32)
        {
            model.to(backboneType);
            foreach (var (name, child) in model.named_children())
                if (name == "memory" || name.StartsWith("fmem_")) child.to(ScalarType.Float32);
        }
        ChannelsLast.ApplyToWeights(model);
    }
}
