using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>
/// Every convolution of the network runs channels-last (NHWC strides). It is oneDNN's fast layout, and it is also a
/// correctness requirement: the oneDNN 3.7.1 inside TorchSharp 0.107's libtorch returns wrong values (errors of order
/// 1, NaN in bf16) for NCHW convolutions whose channel count is not a multiple of 16 (24, 40, 56, 60 and 72 measured;
/// forward and backward) on AMD Zen 5 (EPYC, family 1Ah), while its channels-last 3×3 kernels were right at every
/// width tried (docs/performance.md). libtorch runs a convolution channels-last when its input or its weight is, so
/// <see cref="Conv"/> gives its input NHWC strides (the model converts its input on entry, so this is an alias inside
/// the network), training keeps plain NCHW parameters (the optimizer's state follows them), and inference gives the
/// weights NHWC strides too (<see cref="Inference.ModelLayout"/>). 1×1 convolutions are matrix products
/// (<see cref="Pointwise"/>). TorchSharp has no memory_format argument: permute + contiguous + permute back makes the
/// NHWC strides.
/// </summary>
public static class ChannelsLast
{
    /// <summary>A 4-D tensor with NHWC strides (a copy when it has other strides, an alias otherwise); others
    /// unchanged.</summary>
    public static Tensor Of(Tensor t) =>
        t.dim() == 4 && !Is(t) ? t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : t.alias();

    /// <summary>Whether <paramref name="t"/> is 4-D and laid out NHWC (strides of size-1 dimensions do not
    /// matter).</summary>
    public static bool Is(Tensor t)
    {
        if (t.dim() != 4) return false;
        long expected = 1;
        foreach (int d in (int[])[1, 3, 2, 0])
        {
            if (t.shape[d] != 1 && t.stride(d) != expected) return false;
            expected *= t.shape[d];
        }
        return true;
    }

    /// <summary>Gives every 4-D parameter of <paramref name="module"/> NHWC strides, in place (values
    /// unchanged).</summary>
    public static void ApplyToWeights(nn.Module module)
    {
        using var _ = no_grad();
        var seen = new HashSet<IntPtr>();
        foreach (var (_, p) in StateDict.Entries(module))
        {
            if (p.dim() != 4 || Is(p) || !seen.Add(p.Handle)) continue;
            using var cl = p.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            p.set_(cl);
        }
    }
}
