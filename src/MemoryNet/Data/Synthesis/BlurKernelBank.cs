using System.Text.Json;
using MemoryNet.Imaging;

namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Measured blur kernels (PSFs) a user gives, such as the camera-shake kernels of Levin et al. 2009: read from a
/// folder's <c>kernels.json</c> (<c>{"name": {"size": [h, w], "values": [...]}}</c>, row-major) when it has one, else
/// from its greyscale images (any bit depth; the pixel values are the kernel). Each kernel is normalised to sum 1.
/// </summary>
public sealed class BlurKernelBank
{
    public sealed record Kernel(string Name, int Width, int Height, float[] Values);

    public IReadOnlyList<Kernel> Kernels { get; }

    public BlurKernelBank(IReadOnlyList<Kernel> kernels)
    {
        if (kernels.Count == 0) throw new UserInputException("no blur kernels given");
        Kernels = kernels;
    }

    public static BlurKernelBank Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new UserInputException($"{dir}: no such folder (blur kernels)");
        var list = new List<Kernel>();
        string json = Path.Combine(dir, "kernels.json");
        if (File.Exists(json))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
                foreach (var e in doc.RootElement.EnumerateObject().OrderBy(e => e.Name, StringComparer.Ordinal))
                {
                    var size = e.Value.GetProperty("size");
                    int h = size[0].GetInt32(), w = size[1].GetInt32();
                    var v = e.Value.GetProperty("values").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
                    if (v.Length != w * h)
                        throw new UserInputException($"{json}: kernel '{e.Name}' has {v.Length} values for {h}x{w}");
                    list.Add(Normalised(e.Name, w, h, v, json));
                }
            }
            catch (Exception ex)
                when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
            {
                throw new UserInputException($"{json}: not a kernel list ({ex.Message})");
            }
        }
        else
        {
            foreach (var f in SynthDataset.ListImages(dir))
            {
                var img = ImageCodec.Read(Path.Combine(dir, f));
                var v = new float[img.Width * img.Height];
                for (int i = 0; i < v.Length; i++) v[i] = img.Pixels[(long)i * img.Channels];
                list.Add(Normalised(f, img.Width, img.Height, v, Path.Combine(dir, f)));
            }
        }
        if (list.Count == 0) throw new UserInputException($"{dir}: no blur kernels (kernels.json or greyscale images)");
        return new BlurKernelBank(list);
    }

    static Kernel Normalised(string name, int w, int h, float[] v, string where)
    {
        double sum = 0;
        foreach (var x in v)
        {
            if (x < 0 || !float.IsFinite(x))
                throw new UserInputException($"{where}: kernel '{name}' has a negative or non-finite value");
            sum += x;
        }
        if (sum <= 0) throw new UserInputException($"{where}: kernel '{name}' is all zero");
        return new Kernel(name, w, h, v.Select(x => (float)(x / sum)).ToArray());
    }

    /// <summary>
    /// Kernel k turned by one of the 8 flips/rotations (<paramref name="mode"/>) and resized by
    /// <paramref name="scale"/> (bilinear splat of each sample onto the scaled grid), as taps about its centroid, sum
    /// 1; never wider than <paramref name="maxSize"/>. The samples are moved by at most half a pixel so that the
    /// centroid lies on a whole pixel, as <see cref="BlurSynth.Kernel"/> does for trajectories.
    /// </summary>
    public List<ImageOps.Tap> Taps(int k, int mode, double scale, int maxSize)
    {
        var kn = Kernels[k];
        scale = Math.Min(scale, (maxSize - 2) / (double)Math.Max(kn.Width, kn.Height));
        // an odd grid with a whole-pixel centre, and whole-pixel offsets about the kernel's middle sample, so that
        // scale 1 copies a kernel whose centroid is a whole pixel exactly (any other is moved by a bilinear splat)
        int g = Math.Min(maxSize | 1, 2 * (int)Math.Ceiling(Math.Max(kn.Width, kn.Height) * scale / 2) + 3);
        var grid = new double[g * g];
        int c0x = kn.Width / 2, c0y = kn.Height / 2, gc = g / 2;
        (double Dx, double Dy) Offset(int x, int y)   // a sample's place about the middle sample, turned and scaled
        {
            double dx = x - c0x, dy = y - c0y;
            if ((mode & 1) != 0) dx = -dx;
            if ((mode & 2) != 0) dy = -dy;
            if ((mode & 4) != 0) (dx, dy) = (dy, dx);
            return (dx * scale, dy * scale);
        }
        double w = 0, ux = 0, uy = 0;
        for (int y = 0; y < kn.Height; y++)
            for (int x = 0; x < kn.Width; x++)
            {
                float v = kn.Values[y * kn.Width + x];
                var (dx, dy) = Offset(x, y);
                w += v; ux += v * dx; uy += v * dy;
            }
        double ox = BlurSynth.ToWholePixel(ux / w), oy = BlurSynth.ToWholePixel(uy / w);
        for (int y = 0; y < kn.Height; y++)
            for (int x = 0; x < kn.Width; x++)
            {
                float v = kn.Values[y * kn.Width + x];
                if (v == 0) continue;
                var (dx, dy) = Offset(x, y);
                ImageOps.Splat(grid, g, g, gc + dx + ox, gc + dy + oy, v);
            }
        double sum = 0, mx = 0, my = 0;
        for (int y = 0; y < g; y++)
            for (int x = 0; x < g; x++) { double v = grid[y * g + x]; sum += v; mx += v * x; my += v * y; }
        return RainSynth.ToTaps(grid, g, g, (int)Math.Round(mx / sum), (int)Math.Round(my / sum));
    }
}
