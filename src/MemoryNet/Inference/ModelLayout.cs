using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Inference;

/// <summary>
/// Memory layout and precision of a network for inference. TorchSharp has no memory_format argument, so channels-last
/// (NHWC strides, the layout oneDNN's fast convolutions use) is made with permute + contiguous + permute back; every
/// 4-D parameter is replaced in place. bf16 converts the convolutional backbone and keeps the memory modules (softmax
/// over prototypes with a 0.0025 shrink threshold) in fp32.
/// </summary>
public static class ModelLayout
{
    public static Tensor ToChannelsLast(Tensor t) =>
        t.dim() == 4 ? t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : t.alias();

    public static bool IsChannelsLast(Tensor t) =>
        t.dim() == 4 && t.stride(1) == 1 && t.shape[1] > 1;

    /// <summary>Converts the parameters of <paramref name="model"/> in place.</summary>
    public static void Apply(Modules.MemoryNetModel model, bool channelsLast, ScalarType backboneType)
    {
        if (backboneType != ScalarType.Float32)
        {
            model.to(backboneType);
            foreach (var (name, child) in model.named_children())
                if (name == "memory" || name.StartsWith("fmem_")) child.to(ScalarType.Float32);
        }
        if (!channelsLast) return;
        using var _ = no_grad();
        var seen = new HashSet<IntPtr>();
        foreach (var (_, p) in StateDict.Entries(model))
        {
            if (p.dim() != 4 || !seen.Add(p.Handle)) continue;
            using var cl = ToChannelsLast(p);
            p.set_(cl);
        }
    }
}
