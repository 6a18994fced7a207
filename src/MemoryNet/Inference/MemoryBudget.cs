using System.Globalization;
using MemoryNet.Modules;

namespace MemoryNet.Inference;

/// <summary>
/// Estimates the peak resident memory of restoring an image and picks the largest tile that keeps it under a budget.
/// Model (fitted to measurements, see <see cref="BaseBytes"/>): peak ≈ base + activation bytes per pixel × padded
/// pixels of one forward pass + image buffers × image pixels.
/// </summary>
public static class MemoryBudget
{
    /// <summary>--max-memory default: 2 GiB, below the 3 GB a 24-megapixel photo must fit in, with room for the runtime.</summary>
    public const long DefaultBytes = 2L << 30;

    // Measured (PLACEHOLDER, filled below from measurements)
    public const double BaseBytes = 400e6;
    public const double ConvBytesPerChannelPixel = 100;
    public const double MemoryModuleBytesPerPixel = 100;
    /// <summary>Image-sized buffers of the tiled path: decoded input (≤ 16 B/px), accumulator and weights (16 B/px),
    /// restored image (≤ 16 B/px), encoder rows and decode leftovers not yet collected (≈ 16 B/px).</summary>
    public const double ImageBytesPerPixel = 64;

    /// <summary>Network activation bytes per (padded) input pixel for an architecture.</summary>
    public static double ActivationBytesPerPixel(ArchSpec spec) =>
        ConvBytesPerChannelPixel * (spec.NFeat + spec.ScaleOrsnetFeats) + (spec.HasMemory ? MemoryModuleBytesPerPixel : 0);

    static long Padded(int n) => (n + 7) / 8 * 8;

    /// <summary>Estimated peak bytes for a width × height image, whole (<paramref name="tile"/> 0) or tiled.</summary>
    public static double Estimate(ArchSpec spec, int width, int height, int tile = 0, int batch = 1)
    {
        long pass = tile <= 0 ? Padded(width) * Padded(height)
            : Padded(Math.Min(tile, width)) * Padded(Math.Min(tile, height)) * Math.Max(1, batch);
        return BaseBytes + ActivationBytesPerPixel(spec) * pass + ImageBytesPerPixel * (double)width * height;
    }

    /// <summary>0 when the whole image fits <paramref name="budget"/>; else the largest tile (multiple of 8, at least 64) that does.</summary>
    public static int ChooseTile(ArchSpec spec, int width, int height, long budget, int batch = 1)
    {
        if (Estimate(spec, width, height) <= budget) return 0;
        int max = (int)Padded(Math.Max(width, height));
        for (int t = max; t > 64; t -= 8)
            if (Estimate(spec, width, height, t, batch) <= budget) return t;
        return 64;
    }

    /// <summary>Parses a size: bytes, or a number with K, M, G or T (optionally followed by B or iB), all powers of 1024.</summary>
    public static long Parse(string text)
    {
        var s = text.Trim().ToUpperInvariant().Replace(" ", "");
        double unit = 1;
        foreach (var (suffix, u) in new[] { ("TIB", 1L << 40), ("GIB", 1L << 30), ("MIB", 1L << 20), ("KIB", 1L << 10),
                                            ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10),
                                            ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10), ("B", 1L) })
            if (s.EndsWith(suffix)) { unit = u; s = s[..^suffix.Length]; break; }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v <= 0 || double.IsInfinity(v))
            throw new UserInputException($"--max-memory '{text}': expected a size such as 2GB, 1.5G or 800MB");
        return (long)Math.Min(v * unit, long.MaxValue / 2);
    }
}
