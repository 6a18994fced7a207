using MemoryNet.Data.Synthesis;

namespace MemoryNet.Data;

/// <summary>
/// Training samples made on the fly from clean photos with one of the synthetic degradations: a random crop, a fresh
/// degradation and a dihedral transform per sample, all drawn from the step's generator (deterministic per step).
/// An "epoch" is 8 crops per photo.
/// </summary>
public sealed class SynthSource : ISampleSource
{
    private readonly Degradation kind;
    private readonly string dir;
    private readonly Dictionary<int, List<SynthDataset.Photo>> photosBySize = [];

    private readonly int sceneSize;
    private readonly double zoom, gamma, cleanFraction;
    private readonly BlurKernelBank? kernels;

    SynthSource(Degradation kind, string dir, int photoCount, int sceneSize, double zoom, double gamma,
        double cleanFraction, BlurKernelBank? kernels)
    {
        this.kind = kind; this.dir = dir; this.sceneSize = sceneSize; this.zoom = zoom; this.gamma = gamma;
        this.cleanFraction = cleanFraction;
        this.kernels = kernels;
        Count = photoCount * 8;
    }

    public int Count { get; }

    /// <param name="sceneSize">Photos are scaled and degraded as for `synth --size sceneSize`; training patches are cut
    /// from that degraded scene, so rain, drops, penumbrae and blur have the scale of a test set made at that
    /// size.</param>
    /// <param name="zoom">Scale augmentation: photos are kept with up to this many times the detail of the scene scale,
    /// and each scene is a window of 1–zoom times the scene's width (log-uniform) brought down to it (area
    /// resampling).</param>
    /// <param name="gamma">Exposure augmentation: each clean scene is raised to a power drawn log-uniformly from
    /// [1/gamma, gamma] before it is degraded (darker and lighter scenes than the photos hold; 1 = off).</param>
    /// <param name="cleanFraction">This fraction of samples is left undegraded (input = target): negatives that teach
    /// the network to leave alone what is not degraded, such as a dark background that is not a shadow.</param>
    /// <param name="kernelDir">Measured blur kernels for blur (<see cref="BlurKernelBank.Load"/>); null: none.</param>
    public static SynthSource Create(string kind, string cleanDir, int sceneSize = 256, double zoom = 1,
        double gamma = 1, double cleanFraction = 0,
        string? kernelDir = null)
    {
        if (zoom < 1) throw new UserInputException($"synth-zoom must be at least 1 (got {zoom})");
        if (gamma < 1) throw new UserInputException($"synth-gamma must be at least 1 (got {gamma})");
        if (cleanFraction is < 0 or >= 1)
            throw new UserInputException($"synth-clean must be in [0, 1) (got {cleanFraction})");
        if (sceneSize < 8) throw new UserInputException($"synth-size must be at least 8 (got {sceneSize})");
        var k = Degradations.Parse(kind);
        int photos = SynthDataset.ListImages(cleanDir).Count;
        if (photos == 0) throw new UserInputException($"{cleanDir}: no clean photos (PNG, JPEG, BMP, WebP)");
        var bank = kernelDir is null ? null : BlurKernelBank.Load(kernelDir);
        return new SynthSource(k, cleanDir, photos, sceneSize, zoom, gamma, cleanFraction, bank);
    }

    List<SynthDataset.Photo> Photos(int size)
    {
        lock (photosBySize)
        {
            if (!photosBySize.TryGetValue(size, out var list))
            {
                var warnings = new List<string>();
                photosBySize[size] = list = SynthDataset.LoadPhotos(dir, kind, size, 1, warnings, zoom);
                foreach (var w in warnings) Console.Error.WriteLine($"warning: {w}");
            }
            return list;
        }
    }

    public Patch Make(int index, int patchSize, SynthRng rng)
    {
        int scene = Math.Max(patchSize, sceneSize);
        var photos = Photos(scene);
        var photo = photos[index % photos.Count];
        int m = kind.Margin, cw = scene + 2 * m;
        int window = cw;
        if (zoom > 1)
        {
            int largest = Math.Min(photo.Image.Width, photo.Image.Height);
            window = Math.Clamp((int)Math.Round(cw * Math.Exp(rng.Uniform(0, Math.Log(zoom)))), cw,
                Math.Max(cw, largest));
        }
        int x = rng.Int(0, photo.Image.Width - window + 1), y = rng.Int(0, photo.Image.Height - window + 1);
        var clean = photo.Image.Crop(x, y, window, window);
        if (window != cw) clean = ImageOps.ResizeArea(clean, cw, cw);
        // the extra draws happen only when an option is on, so runs without them keep their exact samples
        if (gamma > 1) clean = ImageOps.Power(clean, Math.Exp(rng.Uniform(-Math.Log(gamma), Math.Log(gamma))));
        var pair = kind.Apply(clean, rng, kernels);
        int px = rng.Int(0, scene - patchSize + 1), py = rng.Int(0, scene - patchSize + 1);
        int mode = rng.Int(0, 8);
        if (cleanFraction > 0 && rng.NextDouble() < cleanFraction)
            pair = pair with
            {
                Input = pair.Target, Mask = pair.Mask is null ? null : new float[pair.Mask.Length], Soft = null
            };
        return new Patch(
            PatchSampler.TransformPlanar(CropPlanar(pair.Input.Data, 3, scene, px, py, patchSize), 3, patchSize, mode),
            PatchSampler.TransformPlanar(CropPlanar(pair.Target.Data, 3, scene, px, py, patchSize), 3, patchSize, mode),
            pair.Mask is null ? null
                : PatchSampler.TransformPlanar(CropPlanar(pair.Mask, 1, scene, px, py, patchSize), 1, patchSize, mode),
            patchSize);
    }

    /// <summary>The p×p window at (x, y) of a planar size×size image with <paramref name="channels"/>
    /// planes.</summary>
    public static float[] CropPlanar(float[] src, int channels, int size, int x, int y, int p)
    {
        if (p == size) return src;
        var dst = new float[channels * p * p];
        for (int c = 0; c < channels; c++)
            for (int r = 0; r < p; r++)
                Array.Copy(src, (c * size + y + r) * size + x, dst, (c * p + r) * p, p);
        return dst;
    }
}
