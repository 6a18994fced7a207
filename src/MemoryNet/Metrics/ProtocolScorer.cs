using MemoryNet.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Metrics;

/// <summary>Scores of one prediction/target pair under a protocol.</summary>
public sealed record PairScore(string Name, double Psnr, double Ssim, LabErrorSums? Lab, int Width, int Height)
{
    /// <summary>False when the scored image was smaller than the SSIM window (Ssim is NaN then).</summary>
    public bool SsimDefined => !double.IsNaN(Ssim);
}

/// <summary>Applies an <see cref="EvalProtocol"/> to image pairs.</summary>
public static class ProtocolScorer
{
    /// <summary>
    /// Scores one pair. <paramref name="mask"/> is required when the protocol reports LAB regions
    /// (shadow = first channel > 0 after 8-bit quantisation, and after the resize when the protocol resizes).
    /// <paramref name="border"/> pixels are cropped from every side after the protocol's resize/crop.
    /// Throws <see cref="UserInputException"/> naming the pair when sizes differ (and the protocol does
    /// not resize) or when nothing is left to score.
    /// </summary>
    public static PairScore Score(EvalProtocol protocol, string name, ImageData pred, ImageData target,
        ImageData? mask = null, int border = 0)
    {
        using var predT = pred.ToTensor();
        using var targetT = target.ToTensor();
        using var maskT = mask?.ToTensor();
        return Score(protocol, name, predT, targetT, maskT, border);
    }

    /// <summary>As above on (1, 3, H, W) or (3, H, W) tensors in [0, 1] (the mask's first channel is used).</summary>
    public static PairScore Score(EvalProtocol protocol, string name, Tensor pred01, Tensor target01,
        Tensor? mask01 = null, int border = 0)
    {
        if (border < 0) throw new UserInputException($"border must be 0 or more (got {border})");
        using var scope = NewDisposeScope();
        var p = ColorSpaces.Quantize8(Chw(pred01));
        var t = ColorSpaces.Quantize8(Chw(target01));
        if (protocol.ShadowLab && mask01 is null)
            throw new UserInputException($"{name}: protocol '{protocol.Name}' needs a shadow mask (a folder of masks)");
        Tensor? m = protocol.ShadowLab ? ColorSpaces.Quantize8(Chw(mask01!)[0]) : null; // (H, W) 0..255

        if (protocol.ResizeTo is int size)
        {
            p = MatlabResize.Bicubic(p, size, size);
            t = MatlabResize.Bicubic(t, size, size);
            if (m is not null) m = MatlabResize.Bicubic(m, size, size, roundUint8: true);
        }
        else
        {
            if (!p.shape.SequenceEqual(t.shape))
                throw new UserInputException(
                    $"{name}: prediction is {p.shape[2]}x{p.shape[1]} but target is {t.shape[2]}x{t.shape[1]}");
            if (m is not null && (m.shape[0] != t.shape[1] || m.shape[1] != t.shape[2]))
                throw new UserInputException(
                    $"{name}: mask is {m.shape[1]}x{m.shape[0]} but target is {t.shape[2]}x{t.shape[1]}");
        }

        long h = t.shape[1], w = t.shape[2];
        if (protocol.CropMultiple > 1)
        {
            long h4 = h / protocol.CropMultiple * protocol.CropMultiple,
                w4 = w / protocol.CropMultiple * protocol.CropMultiple;
            if (h4 == 0 || w4 == 0)
                throw new UserInputException($"{name}: {w}x{h} is too small for protocol '{protocol.Name}' (it crops " +
                    $"to a multiple of {protocol.CropMultiple}, leaving no pixels)");
            (h, w) = (h4, w4);
        }
        if (h - 2L * border <= 0 || w - 2L * border <= 0)
            throw new UserInputException($"{name}: {w}x{h} has no pixels left after cropping a border of {border}");
        p = p[.., (int)border..(int)(h - border), (int)border..(int)(w - border)];
        t = t[.., (int)border..(int)(h - border), (int)border..(int)(w - border)];
        if (m is not null) m = m[(int)border..(int)(h - border), (int)border..(int)(w - border)];

        Tensor ps = p, ts = t;
        switch (protocol.Color)
        {
            case MetricColor.YMatlab: ps = ColorSpaces.YMatlab(p); ts = ColorSpaces.YMatlab(t); break;
            case MetricColor.YOpenCv: ps = ColorSpaces.YOpenCv(p); ts = ColorSpaces.YOpenCv(t); break;
        }
        double psnr = ImageMetrics.Psnr(ps, ts);
        double ssim = ImageMetrics.Ssim(ps, ts, protocol.Ssim);

        LabErrorSums? lab = null;
        if (protocol.ShadowLab)
            lab = protocol.ResizeTo is null
                // 8-bit levels: table gamma
                ? LabErrorSums.FromLab(ColorSpaces.Srgb8ToLab(p), ColorSpaces.Srgb8ToLab(t), m!.GtK(0.0))
                // resized: real values
                : LabErrorSums.Compute(p.DivK(255.0), t.DivK(255.0), m!.GtK(0.0));
        return new PairScore(name, psnr, ssim, lab, (int)ps.shape[2], (int)ps.shape[1]);
    }

    static Tensor Chw(Tensor x) => x.dim() switch
    {
        4 when x.shape[0] == 1 => x[0],
        3 => x,
        _ => throw new ArgumentException(
            $"expected a (1, C, H, W) or (C, H, W) tensor, got [{string.Join(",", x.shape)}]"),
    };
}
