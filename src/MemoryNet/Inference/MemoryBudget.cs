using System.Globalization;
using MemoryNet.Architectures;

namespace MemoryNet.Inference;

/// <summary>
/// Estimates the peak resident memory of restoring an image and picks the largest tile that keeps it under a budget.
/// Model (fitted to measurements, see <see cref="BaseBytes"/>): peak ≈ base + activation bytes per pixel × padded
/// pixels of one forward pass + image buffers × image pixels.
/// </summary>
public static class MemoryBudget
{
    /// <summary>--max-memory default: 2 GiB, below the 3 GB a 24-megapixel photo must fit in, with room for the
    /// runtime.</summary>
    public const long DefaultBytes = 2L << 30;

    // Measured: peak RSS (VmHWM) of `memorynet bench --arch A --size S --iters 1 --threads 2`, one process per point,
    // TorchSharp 0.107 CPU, fp32, after the memory-module reads were chunked and stage-1/2 leftovers freed early:
    //   memorynet   (n_feat 40 + orsnet 16 = 56 channels at full resolution):
    //     128² → 318 MiB, 256² → 612 MiB, 384² → 1206 MiB, 512² → 1349 MiB
    //     least squares: 361 MB + 4 498 B/pixel; the upper envelope over a 300 MB base is 6 540 B/pixel (384²)
    //   memorynet-s (16 + 8 = 24 channels): 256² → 356 MiB, 512² → 899 MiB → 183 MB + 2 897 B/pixel
    //   (before these changes: memorynet 256² → 918 MiB, memorynet-s 512² → 1 696 MiB)
    // glibc's allocator makes the points scatter (freed blocks are reused unevenly), so the model takes the upper
    // envelope: 110 B per full-resolution channel per pixel (memorynet 6 160 B/px, memorynet-s 2 640 B/px) over a
    // 350 MB base (runtime, libtorch, weights, the memory module's fixed-size row chunks).
    public const double BaseBytes = 350e6;
    public const double ConvBytesPerChannelPixel = 110;
    /// <summary>The memory module's three reads kept per pixel (3 × 3 floats); its addressing runs in fixed-size
    /// chunks.</summary>
    public const double MemoryModuleBytesPerPixel = 36;
    /// <summary>Image-sized buffers of the tiled path: decoded input (≤ 16 B/px), accumulator and weights (16 B/px),
    /// restored image (≤ 16 B/px), encoder rows and decode leftovers not yet collected (≈ 16 B/px).</summary>
    public const double ImageBytesPerPixel = 64;

    static long Padded(int n, int multiple) => (n + multiple - 1) / multiple * multiple;

    /// <summary>Estimated peak bytes for a width × height image, whole (<paramref name="tile"/> 0) or tiled.</summary>
    public static double Estimate(NetSpec spec, int width, int height, int tile = 0, int batch = 1)
    {
        int m = spec.SizeMultiple;
        long pass = tile <= 0 ? Padded(width, m) * Padded(height, m)
            : Padded(Math.Min(tile, width), m) * Padded(Math.Min(tile, height), m) * Math.Max(1, batch);
        return BaseBytes + spec.ActivationBytesPerPixel * pass + ImageBytesPerPixel * (double)width * height;
    }

    /// <summary>0 when the whole image fits <paramref name="budget"/>; else the largest tile (multiple of 8, at least
    /// 64) that does.</summary>
    public static int ChooseTile(NetSpec spec, int width, int height, long budget, int batch = 1)
    {
        if (Estimate(spec, width, height) <= budget) return 0;
        int max = (int)Padded(Math.Max(width, height), 8);
        for (int t = max; t > 64; t -= 8)
            if (Estimate(spec, width, height, t, batch) <= budget) return t;
        return 64;
    }

    /// <summary>Parses a size: bytes, or a number with K, M, G or T (optionally followed by B or iB), all powers of
    /// 1024. <paramref name="what"/> names the value in the error message.</summary>
    public static long Parse(string text, string what = "memory budget")
    {
        var s = text.Trim().ToUpperInvariant().Replace(" ", "");
        double unit = 1;
        foreach (var (suffix, u) in new[] { ("TIB", 1L << 40), ("GIB", 1L << 30), ("MIB", 1L << 20), ("KIB", 1L << 10),
                                            ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10),
                                            ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10),
                                            ("B", 1L) })
            if (s.EndsWith(suffix)) { unit = u; s = s[..^suffix.Length]; break; }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v <= 0
            || double.IsInfinity(v))
            throw new UserInputException($"{what} '{text}': expected a size such as 2GB, 1.5G or 800MB");
        return (long)Math.Min(v * unit, long.MaxValue / 2);
    }
}
