using MemoryNet.Data.Synthesis;

namespace MemoryNet.Data;

/// <summary>
/// Training samples made on the fly from clean photos with one of the synthetic degradations: a random crop, a fresh
/// degradation and a dihedral transform per sample, all drawn from the step's generator (deterministic per step).
/// An "epoch" is 8 crops per photo.
/// </summary>
public sealed class SynthSource : ISampleSource
{
    private readonly DegradationKind kind;
    private readonly string dir;
    private readonly Dictionary<int, List<SynthDataset.Photo>> photosBySize = [];

    private readonly int sceneSize;

    SynthSource(DegradationKind kind, string dir, int photoCount, int sceneSize)
    {
        this.kind = kind; this.dir = dir; this.sceneSize = sceneSize; Count = photoCount * 8;
    }

    public int Count { get; }

    /// <param name="sceneSize">Photos are scaled and degraded as for `synth --size sceneSize`; training patches are cut
    /// from that degraded scene, so rain, drops, penumbrae and blur have the scale of a test set made at that size.</param>
    public static SynthSource Create(string kind, string cleanDir, int sceneSize = 256)
    {
        if (sceneSize < 8) throw new UserInputException($"--synth-size must be at least 8 (got {sceneSize})");
        var k = Degradations.Parse(kind);
        int photos = SynthDataset.ListImages(cleanDir).Count;
        if (photos == 0) throw new UserInputException($"{cleanDir}: no clean photos (PNG, JPEG, BMP, WebP)");
        return new SynthSource(k, cleanDir, photos, sceneSize);
    }

    List<SynthDataset.Photo> Photos(int size)
    {
        lock (photosBySize)
        {
            if (!photosBySize.TryGetValue(size, out var list))
            {
                var warnings = new List<string>();
                photosBySize[size] = list = SynthDataset.LoadPhotos(dir, kind, size, 1, warnings);
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
        int m = Degradations.Margin(kind), cw = scene + 2 * m;
        int x = rng.Int(0, photo.Image.Width - cw + 1), y = rng.Int(0, photo.Image.Height - cw + 1);
        var pair = Degradations.Apply(kind, photo.Image.Crop(x, y, cw, cw), rng);
        int px = rng.Int(0, scene - patchSize + 1), py = rng.Int(0, scene - patchSize + 1);
        int mode = rng.Int(0, 8);
        return new Patch(
            PatchSampler.TransformPlanar(CropPlanar(pair.Input.Data, 3, scene, px, py, patchSize), 3, patchSize, mode),
            PatchSampler.TransformPlanar(CropPlanar(pair.Target.Data, 3, scene, px, py, patchSize), 3, patchSize, mode),
            pair.Mask is null ? null : PatchSampler.TransformPlanar(CropPlanar(pair.Mask, 1, scene, px, py, patchSize), 1, patchSize, mode),
            patchSize);
    }

    /// <summary>The p×p window at (x, y) of a planar size×size image with <paramref name="channels"/> planes.</summary>
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
