using static TorchSharp.torch;

namespace MemoryNet.Metrics;

/// <summary>
/// Sums of the per-pixel LAB absolute error Σ_{L,a,b}|Δ| for one image, split by the shadow mask.
/// The "RMSE" of the shadow-removal papers is in fact this mean absolute error.
/// </summary>
public sealed record LabErrorSums(double AllSum, long AllPixels, double ShadowSum, long ShadowPixels,
    double NonShadowSum, long NonShadowPixels)
{
    /// <summary>Per-image mean for the whole image.</summary>
    public double All => AllPixels == 0 ? double.NaN : AllSum / AllPixels;
    /// <summary>Per-image mean over shadow pixels; NaN when the mask has none.</summary>
    public double Shadow => ShadowPixels == 0 ? double.NaN : ShadowSum / ShadowPixels;
    /// <summary>Per-image mean over non-shadow pixels; NaN when there are none.</summary>
    public double NonShadow => NonShadowPixels == 0 ? double.NaN : NonShadowSum / NonShadowPixels;

    /// <summary>
    /// <paramref name="pred01"/>, <paramref name="target01"/>: (3, H, W) sRGB in [0, 1] (values slightly
    /// outside are fine, as after a bicubic resize); <paramref name="shadow"/>: (H, W) bool, or null (no shadow
    /// pixels).
    /// </summary>
    public static LabErrorSums Compute(Tensor pred01, Tensor target01, Tensor? shadow)
    {
        using var scope = NewDisposeScope();
        return FromLab(ColorSpaces.SrgbToLab(pred01), ColorSpaces.SrgbToLab(target01), shadow);
    }

    /// <summary>As <see cref="Compute"/> from (3, H, W) L*a*b* images.</summary>
    public static LabErrorSums FromLab(Tensor predLab, Tensor targetLab, Tensor? shadow)
    {
        using var scope = NewDisposeScope();
        var dist = targetLab.sub(predLab).abs_().sum(new long[] { 0 }); // (H, W)
        long all = dist.numel();
        double allSum = dist.sum().item<double>();
        if (shadow is null) return new(allSum, all, 0, 0, allSum, all);
        var m = shadow.to(float64);
        double sSum = dist.mul(m).sum().item<double>();
        long sCount = (long)m.sum().item<double>();
        double nSum = dist.mul(m.neg().AddK_(1.0)).sum().item<double>();
        return new(allSum, all, sSum, sCount, nSum, all - sCount);
    }
}
