using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Metrics;

/// <summary>SSIM settings. <see cref="Matlab"/> is Wang et al.'s ssim_index; <see cref="SkimageDefault"/> is skimage's
/// default (raindrop protocol).</summary>
public sealed record SsimOptions(int WindowSize, bool Gaussian, double Sigma, bool SampleCovariance, double K1 = 0.01,
    double K2 = 0.03)
{
    /// <summary>11×11 Gaussian window, σ 1.5, population covariance (MATLAB ssim_index; skimage
    /// gaussian_weights=True, use_sample_covariance=False).</summary>
    public static readonly SsimOptions Matlab = new(11, true, 1.5, false);

    /// <summary>skimage structural_similarity defaults: 7×7 uniform window, sample covariance (N/(N−1)).</summary>
    public static readonly SsimOptions SkimageDefault = new(7, false, 0, true);

    /// <summary>The 1-D window taps (the 2-D window is their outer product).</summary>
    public double[] Taps()
    {
        var w = new double[WindowSize];
        int r = WindowSize / 2;
        for (int i = 0; i < WindowSize; i++)
            w[i] = Gaussian ? Math.Exp(-0.5 * (i - r) * (i - r) / (Sigma * Sigma)) : 1.0;
        double s = w.Sum();
        for (int i = 0; i < WindowSize; i++) w[i] /= s;
        return w;
    }
}

/// <summary>PSNR and SSIM on (C, H, W) or (1, C, H, W) tensors holding values on a 0..dataRange scale, computed in
/// float64.</summary>
public static class ImageMetrics
{
    /// <summary>10·log10(range² / MSE) over all samples; +∞ when the images are identical.</summary>
    public static double Psnr(Tensor a, Tensor b, double dataRange = 255.0)
    {
        CheckSameShape(a, b);
        using var scope = NewDisposeScope();
        double mse = a.to(float64).sub(b.to(float64)).PowK_(2).mean().item<double>();
        return mse == 0 ? double.PositiveInfinity : 10.0 * Math.Log10(dataRange * dataRange / mse);
    }

    /// <summary>True when an H×W image is large enough for the SSIM window.</summary>
    public static bool SsimDefined(long height, long width, SsimOptions options) =>
        height >= options.WindowSize && width >= options.WindowSize;

    /// <summary>
    /// Mean SSIM: local statistics with the window over the 'valid' region (no padding, as MATLAB's
    /// ssim_index and skimage's crop of (win−1)/2 pixels), mean of the SSIM map per channel, then the
    /// mean over channels. Returns NaN when the image is smaller than the window (SSIM is undefined
    /// there; skimage raises an error), never throws for that.
    /// </summary>
    public static double Ssim(Tensor a, Tensor b, SsimOptions options, double dataRange = 255.0)
    {
        CheckSameShape(a, b);
        long h = a.shape[^2], w = a.shape[^1];
        if (!SsimDefined(h, w, options)) return double.NaN;
        using var scope = NewDisposeScope();
        var x = a.to(float64).reshape(-1, h, w);
        var y = b.to(float64).reshape(-1, h, w);
        long c = x.shape[0];
        var maps = cat([x, y, x * x, y * y, x * y], 0);                  // (5C, H, W)
        var taps = options.Taps();
        // separable window over the valid region: shifted-slice sums in float64 (libtorch's float64
        // conv2d has no fast CPU path; this is ~10x quicker and exact to rounding)
        var f = Filter(Filter(maps, taps, 2), taps, 1);
        int k = options.WindowSize;
        var ux = f.narrow(0, 0, c); var uy = f.narrow(0, c, c);
        var uxx = f.narrow(0, 2 * c, c); var uyy = f.narrow(0, 3 * c, c); var uxy = f.narrow(0, 4 * c, c);
        double np = (double)k * k;
        double covNorm = options.SampleCovariance ? np / (np - 1) : 1.0;
        var vx = (uxx - ux * ux).MulK_(covNorm);
        var vy = (uyy - uy * uy).MulK_(covNorm);
        var vxy = (uxy - ux * uy).MulK_(covNorm);
        double c1 = Math.Pow(options.K1 * dataRange, 2), c2 = Math.Pow(options.K2 * dataRange, 2);
        var s = (ux * uy).MulK_(2.0).AddK_(c1) * vxy.MulK(2.0).AddK_(c2)
            / ((ux * ux).Plus(uy * uy).AddK_(c1) * vx.Plus(vy).AddK_(c2));
        return s.mean().item<double>();
    }

    /// <summary>Valid-region 1-D correlation along <paramref name="dim"/>: Σ_k taps[k]·x[i+k].</summary>
    static Tensor Filter(Tensor x, double[] taps, int dim)
    {
        long n = x.shape[dim] - taps.Length + 1;
        var acc = x.narrow(dim, 0, n).MulK(taps[0]);
        for (int k = 1; k < taps.Length; k++) acc.AddScaled_(x.narrow(dim, k, n), taps[k]);
        return acc;
    }

    static void CheckSameShape(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape))
            throw new ArgumentException(
                $"image shapes differ: [{string.Join(",", a.shape)}] vs [{string.Join(",", b.shape)}]");
    }
}
