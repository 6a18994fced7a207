using MemoryNet.Data.Synthesis;
using MemoryNet.Imaging;

namespace MemoryNet.Data;

/// <summary>A training sample: CHW float patches of the input, the target and (shadow data) the mask.</summary>
public sealed record Patch(float[] Input, float[] Target, float[]? Mask, int Size);

/// <summary>
/// Cuts aligned random patches from an (input, target, mask) triple: a random crop of <c>size</c> (reflect-padded
/// when the image is smaller) and one of the 8 dihedral transforms (flips and 90° rotations), identical for all three.
/// </summary>
public static class PatchSampler
{
    /// <summary>One of the 8 dihedral transforms applied to patch coordinates (u, v) of an n×n patch.</summary>
    public static (int U, int V) Dihedral(int mode, int u, int v, int n) => mode switch
    {
        0 => (u, v),
        1 => (v, n - 1 - u),           // rotate 90°
        2 => (n - 1 - u, n - 1 - v),   // rotate 180°
        3 => (n - 1 - v, u),           // rotate 270°
        4 => (u, n - 1 - v),           // flip horizontally
        5 => (n - 1 - u, v),           // flip vertically
        6 => (v, u),                   // transpose
        _ => (n - 1 - v, n - 1 - u),   // anti-transpose
    };

    static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }

    public static Patch Sample(ImageData input, ImageData target, ImageData? mask, int size, SynthRng rng,
        bool augment = true)
    {
        int h = input.Height, w = input.Width;
        int top = h > size ? rng.Int(0, h - size + 1) : 0;
        int left = w > size ? rng.Int(0, w - size + 1) : 0;
        int mode = augment ? rng.Int(0, 8) : 0;
        return new Patch(Cut(input, top, left, size, mode), Cut(target, top, left, size, mode),
            mask is null ? null : Cut(mask, top, left, size, mode, channels: 1), size);
    }

    /// <summary>CHW patch (3 channels, or 1 for masks); grey images are replicated, alpha dropped.</summary>
    public static float[] Cut(ImageData img, int top, int left, int size, int mode, int channels = 3)
    {
        var outp = new float[channels * size * size];
        int c = img.Channels, w = img.Width, h = img.Height;
        for (int u = 0; u < size; u++)
            for (int v = 0; v < size; v++)
            {
                var (su, sv) = Dihedral(mode, u, v, size);
                int y = Reflect(top + su, h), x = Reflect(left + sv, w);
                long src = ((long)y * w + x) * c;
                for (int k = 0; k < channels; k++)
                    outp[(k * size + u) * size + v] = img.Pixels[src + (c == 1 ? 0 : k)];
            }
        return outp;
    }

    /// <summary>Applies dihedral transform <paramref name="mode"/> to planar (C, n, n) samples.</summary>
    public static float[] TransformPlanar(float[] chw, int channels, int n, int mode)
    {
        if (chw.Length != channels * n * n)
            throw new ArgumentException($"expected {channels}x{n}x{n} samples, got {chw.Length}");
        if (mode == 0) return chw;
        var outp = new float[chw.Length];
        for (int k = 0; k < channels; k++)
            for (int u = 0; u < n; u++)
                for (int v = 0; v < n; v++)
                {
                    var (su, sv) = Dihedral(mode, u, v, n);
                    outp[(k * n + u) * n + v] = chw[(k * n + su) * n + sv];
                }
        return outp;
    }
}
