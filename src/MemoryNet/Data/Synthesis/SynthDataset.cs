using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MemoryNet.Imaging;

namespace MemoryNet.Data.Synthesis;

public sealed record SynthOptions(
    Degradation Kind, string CleanDir, string OutDir,
    int Count = 100, int Size = 256, long Seed = 0,
    string? Preview = null, int Threads = 0, bool Overwrite = false, int PreviewPairs = 8, int PreviewTile = 128,
    string? KernelDir = null);

public sealed record SynthReport(int Written, int PhotosUsed, IReadOnlyList<string> Warnings, double Seconds,
    double[] Psnr, string Layout, string Manifest);

/// <summary>
/// Makes a paired dataset from a folder of clean photos: random crops of --size from photos reduced so that
/// the shorter side is about 1.75× the size (area averaging), one degradation per crop, deterministic for
/// the seed (item i uses its own generator derived from (seed, i), so threads do not change the bytes).
/// Layouts: rain, heavy-rain, blur → input/ + target/; shadow → train_A/ (shadow), train_B/ (mask),
/// train_C/ (shadow-free) as ISTD; raindrop → data/N_rain.png, gt/N_clean.png, mask/N_mask.png as Qian et al.
/// Every pair is described by one line of manifest.jsonl.
/// </summary>
public static class SynthDataset
{
    public const double ScaleFactor = 1.75;
    static readonly string[] LayoutEntries = ["input", "target", "train_A", "train_B", "train_C", "data", "gt", "mask",
        "manifest.jsonl"];

    public sealed record Photo(string RelPath, int SourceWidth, int SourceHeight, double Scale, RgbImage Image);

    /// <summary>Minimum shorter side a photo needs for this kind and size.</summary>
    public static int Needed(Degradation k, int size) => size + 2 * k.Margin;

    public static List<string> ListImages(string dir)
    {
        if (!Directory.Exists(dir)) throw new UserInputException($"{dir}: no such folder of clean photos");
        var root = Path.GetFullPath(dir);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => ImageCodec.IsImagePath(f) && !Path.GetFileName(f).StartsWith('.'))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
    }

    /// <summary>Reads and reduces the photos; unusable ones (too small, unreadable) become warnings.</summary>
    /// <param name="detail">Keep this many times the detail of the `--size` scale (short side up to 1.75·size·detail;
    /// never enlarged).</param>
    public static List<Photo> LoadPhotos(string dir, Degradation kind, int size, int threads, List<string> warnings,
        double detail = 1)
    {
        var files = ListImages(dir);
        if (files.Count == 0) throw new UserInputException($"{dir}: no images found (PNG, JPEG, BMP or WebP)");
        int need = Needed(kind, size);
        string needWhy = kind.Margin > 0
            ? $"{need} px needed (size {size} + 2x{kind.Margin} px {kind.Name} border)"
            : $"size {size}";
        int target = Math.Max((int)Math.Round(ScaleFactor * size * detail), need);
        var photos = new Photo?[files.Count];
        var warn = new string?[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            string full = Path.Combine(dir, files[i]);
            try
            {
                var (w0, h0) = ImageCodec.Probe(full);
                if (Math.Min(w0, h0) < need)
                {
                    warn[i] = $"{full}: {w0}x{h0} is smaller than {needWhy}; skipped";
                    return;
                }
                var img = RgbImage.FromImageData(ImageCodec.Read(full));
                int w = img.Width, h = img.Height;
                double scale = 1;
                if (Math.Min(w, h) > target)
                {
                    scale = target / (double)Math.Min(w, h);
                    int nw = Math.Max(need, (int)Math.Round(w * scale)),
                        nh = Math.Max(need, (int)Math.Round(h * scale));
                    img = ImageOps.ResizeArea(img, nw, nh);
                    scale = nw / (double)w;
                }
                photos[i] = new Photo(files[i], w, h, scale, img);
            }
            catch (Exception e) when (e is ImageFormatException or IOException or UnauthorizedAccessException)
            {
                warn[i] = e.Message.StartsWith(full) ? e.Message + "; skipped" : $"{full}: {e.Message}; skipped";
            }
        });
        warnings.AddRange(warn.Where(w => w is not null)!);
        var usable = photos.Where(p => p is not null).Select(p => p!).ToList();
        if (usable.Count == 0)
            throw new UserInputException($"{dir}: none of the {files.Count} image(s) is usable (each must be at " +
                $"least {need}x{need} px and readable)");
        return usable;
    }

    /// <summary>The photo used for item i: photos in a seeded random order, reshuffled every cycle.</summary>
    public static int PhotoFor(long seed, int index, int photoCount)
    {
        int cycle = index / photoCount, pos = index % photoCount;
        var rng = new SynthRng(SynthRng.ItemSeed(seed ^ 0x5DEECE66DL, cycle));
        var perm = Enumerable.Range(0, photoCount).ToArray();
        for (int i = photoCount - 1; i > 0; i--) { int j = rng.Int(0, i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
        return perm[pos];
    }

    /// <summary>One pair, as written (samples already rounded to 8 bits), with its manifest line.</summary>
    public static (DegradedPair Pair, string ManifestLine) MakeItem(Degradation kind, IReadOnlyList<Photo> photos,
        int size, long seed, int index,
        BlurKernelBank? kernels = null)
    {
        ulong itemSeed = SynthRng.ItemSeed(seed, index);
        var rng = new SynthRng(itemSeed);
        var photo = photos[PhotoFor(seed, index, photos.Count)];
        int m = kind.Margin, cw = size + 2 * m;
        int x = rng.Int(0, photo.Image.Width - cw + 1), y = rng.Int(0, photo.Image.Height - cw + 1);
        var crop = photo.Image.Crop(x, y, cw, cw);
        var pair = kind.Apply(crop, rng, kernels);
        var q = new DegradedPair(pair.Input.Quantize8(), pair.Target.Quantize8(), pair.Mask, pair.Soft, pair.Params);
        double psnr = ImageOps.Psnr(q.Input, q.Target);

        var (fi, ft, fm) = kind.FileNames(index);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("index", index);
            w.WriteNumber("seed", itemSeed);
            w.WriteString("kind", kind.Name);
            w.WriteString("input", fi);
            w.WriteString("target", ft);
            if (fm is not null) w.WriteString("mask", fm); else w.WriteNull("mask");
            w.WriteString("source", photo.RelPath);
            w.WritePropertyName("source_size");
            SynthParams.WriteValue(w, new[] { photo.SourceWidth, photo.SourceHeight });
            w.WriteNumber("scale", SynthParams.R(photo.Scale));
            // the target's box in the reduced photo, and in the source photo's pixels
            w.WritePropertyName("crop"); SynthParams.WriteValue(w, new[] { x + m, y + m, size, size });
            w.WritePropertyName("crop_in_source"); SynthParams.WriteValue(w, new[] {
                Math.Round((x + m) / photo.Scale, 2), Math.Round((y + m) / photo.Scale, 2),
                Math.Round(size / photo.Scale, 2), Math.Round(size / photo.Scale, 2) });
            w.WriteNumber("psnr", Math.Round(psnr, 3));
            w.WritePropertyName("params"); pair.Params.WriteTo(w);
            w.WriteEndObject();
        }
        return (q, Encoding.UTF8.GetString(ms.ToArray()));
    }

    public static SynthReport Run(SynthOptions o, Action<string>? warn = null, Action? itemDone = null)
    {
        if (o.Count < 1) throw new UserInputException($"count must be at least 1 (got {o.Count})");
        if (o.Size < 16 || o.Size > 8192)
            throw new UserInputException($"size must be between 16 and 8192 (got {o.Size})");
        int threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount;
        var sw = Stopwatch.StartNew();
        string outDir = Path.GetFullPath(o.OutDir);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            if (!o.Overwrite)
                throw new UserInputException(
                    $"{o.OutDir}: folder is not empty (allow overwriting to replace a dataset made by synth)");
            foreach (var e in LayoutEntries)
            {
                var p = Path.Combine(outDir, e);
                if (Directory.Exists(p)) Directory.Delete(p, true); else if (File.Exists(p)) File.Delete(p);
            }
        }
        var warnings = new List<string>();
        var kernels = o.KernelDir is null ? null : BlurKernelBank.Load(o.KernelDir);
        var photos = LoadPhotos(o.CleanDir, o.Kind, o.Size, threads, warnings);
        foreach (var w in warnings) warn?.Invoke(w);

        var (fi0, ft0, fm0) = o.Kind.FileNames(0);
        Directory.CreateDirectory(Path.Combine(outDir, Path.GetDirectoryName(fi0)!));
        Directory.CreateDirectory(Path.Combine(outDir, Path.GetDirectoryName(ft0)!));
        if (fm0 is not null) Directory.CreateDirectory(Path.Combine(outDir, Path.GetDirectoryName(fm0)!));

        var lines = new string[o.Count];
        var psnr = new double[o.Count];
        int keep = o.Preview is null ? 0 : Math.Min(o.PreviewPairs, o.Count);
        var previewPairs = new DegradedPair[keep];
        Parallel.For(0, o.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            var (pair, line) = MakeItem(o.Kind, photos, o.Size, o.Seed, i, kernels);
            var (fi, ft, fm) = o.Kind.FileNames(i);
            File.WriteAllBytes(Path.Combine(outDir, fi), PngWriter.EncodeRgb(pair.Input));
            File.WriteAllBytes(Path.Combine(outDir, ft), PngWriter.EncodeRgb(pair.Target));
            if (fm is not null && pair.Mask is not null)
                File.WriteAllBytes(Path.Combine(outDir, fm),
                    PngWriter.EncodeGrey(pair.Mask, pair.Input.Width, pair.Input.Height));
            lines[i] = line;
            psnr[i] = ImageOps.Psnr(pair.Input, pair.Target);
            if (i < keep) previewPairs[i] = pair;
            itemDone?.Invoke();
        });
        string manifest = Path.Combine(outDir, "manifest.jsonl");
        AtomicFile.WriteAllText(manifest, string.Join("\n", lines) + "\n");
        if (o.Preview is not null)
            ContactSheet.Write(ContactSheet.Build(previewPairs, o.PreviewTile), o.Preview);
        return new SynthReport(o.Count, photos.Count, warnings, sw.Elapsed.TotalSeconds, psnr,
            o.Kind.LayoutName, manifest);
    }
}
