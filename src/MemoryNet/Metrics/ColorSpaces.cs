using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Metrics;

/// <summary>
/// Colour conversions used by the evaluation protocols. Inputs are (3, H, W) or (N, 3, H, W) tensors;
/// the channel axis is the one before H and W. All results are float64.
/// </summary>
public static class ColorSpaces
{
    /// <summary>
    /// Quantises [0, 1] samples to 8-bit levels, returned as float64 in 0..255: round(v·255).
    /// For 16-bit sources this is MATLAB's im2uint8 (round(v16 / 257)).
    /// </summary>
    public static Tensor Quantize8(Tensor rgb01) =>
        rgb01.to(float64).MulK(255.0).round_().Clamp255_();

    /// <summary>
    /// MATLAB rgb2ycbcr luma (BT.601 studio swing) of 8-bit samples, as MATLAB returns it for a uint8 image:
    /// Y = round(16 + (65.481·R + 128.553·G + 24.966·B)/255), in 16..235. The deraining benchmarks' scoring script
    /// (MPRNet's evaluate_PSNR_SSIM.m) reads uint8 files, so its Y is rounded half away from zero to 8 bits
    /// (imlincomb into uint8) before PSNR and SSIM.
    /// </summary>
    public static Tensor YMatlab(Tensor rgb255)
    {
        using var scope = NewDisposeScope();
        var (r, g, b) = Split(rgb255);
        var y = r.MulK(65.481).AddScaled_(g, 128.553).AddScaled_(b, 24.966).DivK_(255.0).AddK_(16.0 + 0.5).floor_();
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// OpenCV cvtColor(BGR2YCrCb) luma on 8-bit data, bit-exact: OpenCV's fixed point
    /// Y = (4899·R + 9617·G + 1868·B + 2^13) >> 14 (≈ round(0.299R + 0.587G + 0.114B)).
    /// </summary>
    public static Tensor YOpenCv(Tensor rgb255)
    {
        using var scope = NewDisposeScope();
        var (r, g, b) = Split(rgb255);
        var y = r.MulK(4899.0).AddScaled_(g, 9617.0).AddScaled_(b, 1868.0).AddK_(8192.0).DivK_(16384.0).floor_();
        return y.MoveToOuterDisposeScope();
    }

    static readonly double[,] XyzFromRgb =
    {
        { 0.412453, 0.357580, 0.180423 },
        { 0.212671, 0.715160, 0.072169 },
        { 0.019334, 0.119193, 0.950227 },
    };

    /// <summary>CIE D65 white, 2° observer, as skimage.</summary>
    static readonly double[] WhiteD65 = [0.95047, 1.0, 1.08883];

    /// <summary>
    /// sRGB (values in [0, 1], D65) → CIE L*a*b*, exactly as skimage.color.rgb2lab: undo the sRGB gamma
    /// (threshold 0.04045), linear RGB → XYZ, divide by the D65 white, f(t) = t^(1/3) above 0.008856
    /// else 7.787·t + 16/116; L = 116·fy − 16, a = 500·(fx − fy), b = 200·(fy − fz).
    /// </summary>
    public static Tensor SrgbToLab(Tensor rgb01)
    {
        using var scope = NewDisposeScope();
        var x = rgb01.to(float64);
        var lin = where(x.GtK(0.04045), x.AddK(0.055).DivK_(1.055).PowK_(2.4), x.DivK(12.92));
        return LinearToLab(lin).MoveToOuterDisposeScope();
    }

    static readonly double[] Linear8 = Enumerable.Range(0, 256).Select(i =>
    {
        double v = i / 255.0;
        return v > 0.04045 ? Math.Pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
    }).ToArray();

    /// <summary>As <see cref="SrgbToLab"/> for 8-bit levels (0..255 integers, float64): the gamma step is a table
    /// look-up.</summary>
    public static Tensor Srgb8ToLab(Tensor rgb255)
    {
        using var scope = NewDisposeScope();
        var lut = tensor(Linear8, dtype: float64);
        var lin = lut.index_select(0, rgb255.flatten().to(int64)).view_as(rgb255);
        return LinearToLab(lin).MoveToOuterDisposeScope();
    }

    static Tensor LinearToLab(Tensor lin)
    {
        using var scope = NewDisposeScope();
        int c = (int)lin.dim() - 3;
        var ch = lin.unbind(c);
        var f = new Tensor[3];
        for (int i = 0; i < 3; i++)
        {
            var t = ch[0].MulK(XyzFromRgb[i, 0]).AddScaled_(ch[1], XyzFromRgb[i, 1]).AddScaled_(ch[2], XyzFromRgb[i, 2])
                .DivK_(WhiteD65[i]);
            // pow(1/3) of the negative values is NaN but where() takes the linear branch for them
            f[i] = where(t.GtK(0.008856), t.PowK(1.0 / 3.0), t.MulK(7.787).AddK_(16.0 / 116.0));
        }
        var lab = stack([f[1].MulK(116.0).AddK_(-16.0), f[0].sub(f[1]).MulK_(500.0), f[1].sub(f[2]).MulK_(200.0)], c);
        return lab.MoveToOuterDisposeScope();
    }

    static (Tensor R, Tensor G, Tensor B) Split(Tensor rgb)
    {
        int c = (int)rgb.dim() - 3;
        if (rgb.dim() < 3 || rgb.shape[c] != 3) throw new ArgumentException("expected a (..., 3, H, W) tensor");
        var x = rgb.to(float64);
        return (x.select(c, 0).unsqueeze(c), x.select(c, 1).unsqueeze(c), x.select(c, 2).unsqueeze(c));
    }
}
