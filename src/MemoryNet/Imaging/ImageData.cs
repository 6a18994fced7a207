using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Imaging;

/// <summary>
/// A decoded image: interleaved samples (row-major, channel last) in [0, 1].
/// Channels is 1 (grey), 3 (RGB) or 4 (RGBA); BitDepth is the depth of the source file (8 or 16).
/// </summary>
public sealed class ImageData
{
    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public int BitDepth { get; }
    public float[] Pixels { get; }

    public ImageData(int width, int height, int channels, int bitDepth, float[] pixels)
    {
        if (channels is not (1 or 3 or 4)) throw new ArgumentOutOfRangeException(nameof(channels));
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"expected {width}x{height}x{channels} samples, got {pixels.Length}");
        Width = width; Height = height; Channels = channels; BitDepth = bitDepth; Pixels = pixels;
    }

    public bool HasAlpha => Channels == 4;
    public long PixelCount => (long)Width * Height;

    /// <summary>The colour part as a (1, 3, H, W) float32 tensor; grey is replicated to RGB.</summary>
    public Tensor ToTensor()
    {
        using var scope = NewDisposeScope();
        var hwc = tensor(Pixels, new long[] { Height, Width, Channels });
        Tensor rgb = Channels switch
        {
            1 => hwc.expand(Height, Width, 3),
            3 => hwc,
            _ => hwc.narrow(2, 0, 3),
        };
        return rgb.permute(2, 0, 1).unsqueeze(0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The alpha channel as (H, W) floats, or null.</summary>
    public float[]? Alpha()
    {
        if (!HasAlpha) return null;
        var a = new float[PixelCount];
        for (long i = 0; i < a.Length; i++) a[i] = Pixels[i * 4 + 3];
        return a;
    }

    /// <summary>
    /// Builds an image from a (1, 3, H, W) or (3, H, W) tensor, values clamped to [0, 1].
    /// With <paramref name="alpha"/> the result is RGBA; with <paramref name="grey"/> the mean of RGB is kept.
    /// </summary>
    public static ImageData FromTensor(Tensor t, int bitDepth = 8, float[]? alpha = null, bool grey = false)
    {
        using var scope = NewDisposeScope();
        var chw = t.dim() == 4 ? t[0] : t;
        if (chw.shape[0] != 3) throw new ArgumentException("expected 3 channels");
        int h = (int)chw.shape[1], w = (int)chw.shape[2];
        var hwc = chw.detach().to(float32).cpu().ClampK(0, 1).permute(1, 2, 0).contiguous();
        var rgb = hwc.data<float>().ToArray();
        return FromRgb(w, h, rgb, bitDepth, alpha, grey);
    }

    /// <summary>
    /// Builds an image from interleaved RGB samples (H·W·3, taken over, not copied); with <paramref name="alpha"/>
    /// the result is RGBA, with <paramref name="grey"/> the mean of RGB is kept.
    /// </summary>
    public static ImageData FromRgb(int w, int h, float[] rgb, int bitDepth = 8, float[]? alpha = null,
        bool grey = false)
    {
        if (rgb.Length != (long)w * h * 3) throw new ArgumentException($"expected {w}x{h}x3 samples, got {rgb.Length}");
        if (grey)
        {
            var g = new float[(long)h * w];
            for (long i = 0; i < g.Length; i++) g[i] = (rgb[i * 3] + rgb[i * 3 + 1] + rgb[i * 3 + 2]) / 3f;
            return new ImageData(w, h, 1, bitDepth, g);
        }
        if (alpha is null) return new ImageData(w, h, 3, bitDepth, rgb);
        if (alpha.Length != (long)h * w) throw new ArgumentException("alpha size does not match the image");
        var rgba = new float[(long)h * w * 4];
        for (long i = 0; i < (long)h * w; i++)
        {
            rgba[i * 4] = rgb[i * 3]; rgba[i * 4 + 1] = rgb[i * 3 + 1]; rgba[i * 4 + 2] = rgb[i * 3 + 2];
            rgba[i * 4 + 3] = alpha[i];
        }
        return new ImageData(w, h, 4, bitDepth, rgba);
    }
}
