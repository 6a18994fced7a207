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

    SynthSource(DegradationKind kind, string dir, int photoCount) { this.kind = kind; this.dir = dir; Count = photoCount * 8; }

    public int Count { get; }

    public static SynthSource Create(string kind, string cleanDir)
    {
        var k = Degradations.Parse(kind);
        int photos = SynthDataset.ListImages(cleanDir).Count;
        if (photos == 0) throw new UserInputException($"{cleanDir}: no clean photos (PNG, JPEG, BMP, WebP)");
        return new SynthSource(k, cleanDir, photos);
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
        var photos = Photos(patchSize);
        var photo = photos[index % photos.Count];
        int m = Degradations.Margin(kind), cw = patchSize + 2 * m;
        int x = rng.Int(0, photo.Image.Width - cw + 1), y = rng.Int(0, photo.Image.Height - cw + 1);
        var pair = Degradations.Apply(kind, photo.Image.Crop(x, y, cw, cw), rng);
        int mode = rng.Int(0, 8);
        return new Patch(
            PatchSampler.TransformPlanar(pair.Input.Data, 3, patchSize, mode),
            PatchSampler.TransformPlanar(pair.Target.Data, 3, patchSize, mode),
            pair.Mask is null ? null : PatchSampler.TransformPlanar(pair.Mask, 1, patchSize, mode),
            patchSize);
    }
}
