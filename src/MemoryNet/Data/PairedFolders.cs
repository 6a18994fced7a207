using MemoryNet.Imaging;

namespace MemoryNet.Data;

/// <summary>One sample of a paired dataset: degraded input, clean target, optional mask (shadow datasets).</summary>
/// <param name="Name">The common stem (for GoPro "scene/stem").</param>
public sealed record PairedItem(string Name, string Input, string Target, string? Mask = null);

/// <summary>The folder layouts of spec §4.</summary>
public enum DatasetLayout
{
    /// <summary>input/ and target/ with matching names (MPRNet layout: Rain100L etc.).</summary>
    Paired,
    /// <summary>ISTD: X_A (shadow), X_B (mask), X_C (shadow-free), e.g. test/test_A, test_B, test_C.</summary>
    Istd,
    /// <summary>Raindrop (Qian et al.): data/N_rain.png and gt/N_clean.png.</summary>
    Raindrop,
    /// <summary>GoPro: &lt;scene&gt;/blur/*.png and &lt;scene&gt;/sharp/*.png.</summary>
    GoPro,
    /// <summary>RICE: cloudy_image/ and ground_truth/.</summary>
    Rice,
}

/// <summary>
/// Pairs image files across folders by file stem, and reads the dataset layouts into
/// (input, target, mask?) triples with validation. Shared by eval and training.
/// </summary>
public static class PairedFolders
{
    /// <summary>Suffixes of known layouts that are ignored when they are what keeps two sets from matching
    /// (case-insensitive).</summary>
    public static readonly string[] KnownSuffixes =
    [
        "_rain", "_rainy", "_clean", "_free", "_shadow_free", "_shadowfree", "_shadow", "_mask", "_gt", "_target",
        "_input", "_pred", "_output", "_out", "_restored", "_derained", "_blur", "_sharp", "_cloudy",
        "_fake_B", "_real_B",
    ];

    public static DatasetLayout ParseLayout(string name) => name.ToLowerInvariant() switch
    {
        "paired" => DatasetLayout.Paired,
        "istd" => DatasetLayout.Istd,
        "raindrop" => DatasetLayout.Raindrop,
        "gopro" => DatasetLayout.GoPro,
        "rice" => DatasetLayout.Rice,
        _ => throw new UserInputException(
            $"unknown dataset format '{name}' (known: paired, istd, raindrop, gopro, rice)"),
    };

    /// <summary>The image files directly inside a folder, sorted by name.</summary>
    public static List<string> ListImages(string dir, string label)
    {
        if (!Directory.Exists(dir)) throw new UserInputException($"{label} folder {dir}: not found");
        var files = Directory.EnumerateFiles(dir).Where(ImageCodec.IsImagePath).OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new UserInputException($"{label} folder {dir}: no images (PNG, JPEG, BMP, WebP)");
        return files;
    }

    /// <summary>
    /// Pairs the images of <paramref name="inputDir"/> and <paramref name="targetDir"/> (and
    /// <paramref name="maskDir"/>) by file stem; extensions may differ. When the stems do not match as
    /// they are, stems with one known suffix removed (<see cref="KnownSuffixes"/>: N_rain ↔ N_clean) are
    /// tried. Throws <see cref="UserInputException"/> naming the unmatched files.
    /// </summary>
    public static List<PairedItem> MatchByStem(string inputDir, string targetDir, string? maskDir = null,
        string inputLabel = "input", string targetLabel = "target", string maskLabel = "mask", string namePrefix = "")
    {
        var inputs = ListImages(inputDir, inputLabel);
        var targets = ListImages(targetDir, targetLabel);
        var (inMap, tgMap) = Match(inputs, targets, inputLabel, inputDir, targetLabel, targetDir);
        Dictionary<string, string>? maskMap = null;
        if (maskDir is not null)
        {
            var masks = ListImages(maskDir, maskLabel);
            var (mMap, tMap2) = Match(masks, targets, maskLabel, maskDir, targetLabel, targetDir);
            // re-key the masks by the target's key used for the input pairing
            var targetToMask = tMap2.ToDictionary(kv => kv.Value, kv => mMap[kv.Key]);
            maskMap = tgMap.ToDictionary(kv => kv.Key, kv => targetToMask[kv.Value]);
        }
        return inMap.Keys.OrderBy(k => k, StringComparer.Ordinal)
            .Select(k => new PairedItem(namePrefix + k, inMap[k], tgMap[k], maskMap?[k]))
            .ToList();
    }

    static (Dictionary<string, string>, Dictionary<string, string>) Match(
        List<string> a, List<string> b, string aLabel, string aDir, string bLabel, string bDir)
    {
        var aExact = Keyed(a, aLabel, aDir, strip: false);
        var bExact = Keyed(b, bLabel, bDir, strip: false);
        if (SameKeys(aExact, bExact)) return (aExact!, bExact!);
        var aStrip = Keyed(a, aLabel, aDir, strip: true, throwOnDuplicate: false);
        var bStrip = Keyed(b, bLabel, bDir, strip: true, throwOnDuplicate: false);
        if (aStrip is not null && bStrip is not null && SameKeys(aStrip, bStrip)) return (aStrip, bStrip);
        // report the stricter (exact) mismatch; duplicates of an exact stem were already refused
        var onlyA = aExact!.Keys.Except(bExact!.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var onlyB = bExact.Keys.Except(aExact.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (aStrip is not null && bStrip is not null)
        {
            var sa = aStrip.Keys.Except(bStrip.Keys).ToList();
            var sb = bStrip.Keys.Except(aStrip.Keys).ToList();
            if (sa.Count + sb.Count < onlyA.Count + onlyB.Count)
            {
                onlyA = sa.Select(k => Path.GetFileName(aStrip[k])).OrderBy(k => k, StringComparer.Ordinal).ToList();
                onlyB = sb.Select(k => Path.GetFileName(bStrip[k])).OrderBy(k => k, StringComparer.Ordinal).ToList();
            }
            else
            {
                onlyA = onlyA.Select(k => Path.GetFileName(aExact[k])).ToList();
                onlyB = onlyB.Select(k => Path.GetFileName(bExact[k])).ToList();
            }
        }
        var parts = new List<string>();
        if (onlyA.Count > 0) parts.Add($"{onlyA.Count} only in {aLabel} {aDir} ({List(onlyA)})");
        if (onlyB.Count > 0) parts.Add($"{onlyB.Count} only in {bLabel} {bDir} ({List(onlyB)})");
        throw new UserInputException($"{aLabel} and {bLabel} files do not pair up by name: {string.Join("; ", parts)}");
    }

    static string List(List<string> names) =>
        names.Count <= 8 ? string.Join(", ", names) : string.Join(", ", names.Take(8)) +
            $", ... {names.Count - 8} more";

    static bool SameKeys(Dictionary<string, string>? a, Dictionary<string, string>? b) =>
        a is not null && b is not null && a.Count == b.Count && a.Keys.All(b.ContainsKey);

    /// <summary>stem → file; null (or an error) when two files share a key.</summary>
    static Dictionary<string, string>? Keyed(List<string> files, string label, string dir, bool strip,
        bool throwOnDuplicate = true)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            var key = Path.GetFileNameWithoutExtension(f);
            if (strip) key = StripSuffix(key);
            if (map.TryGetValue(key, out var other))
            {
                if (!throwOnDuplicate) return null;
                throw new UserInputException($"{label} folder {dir}: {Path.GetFileName(other)} " +
                    $"and {Path.GetFileName(f)} have the same name '{key}'");
            }
            map[key] = f;
        }
        return map;
    }

    /// <summary>The stem without one known suffix (kept when that would leave nothing).</summary>
    public static string StripSuffix(string stem)
    {
        foreach (var s in KnownSuffixes.OrderByDescending(s => s.Length))
            if (stem.Length > s.Length && stem.EndsWith(s, StringComparison.OrdinalIgnoreCase))
                return stem[..^s.Length];
        return stem;
    }

    /// <summary>
    /// Reads a dataset layout under <paramref name="root"/>. With <paramref name="split"/> (e.g. "test")
    /// the layout is looked for in root/split first; without, in root and then root/test.
    /// </summary>
    public static List<PairedItem> Read(string root, DatasetLayout layout, string? split = null)
    {
        if (!Directory.Exists(root)) throw new UserInputException($"dataset folder {root}: not found");
        var candidates = new List<string>();
        if (split is not null) candidates.Add(Path.Combine(root, split));
        candidates.Add(root);
        if (split is null) candidates.Add(Path.Combine(root, "test"));
        foreach (var dir in candidates)
            if (Directory.Exists(dir) && Looks(dir, layout, split)) return ReadAt(dir, layout, split);
        throw new UserInputException($"dataset folder {root}: not in the {layout.ToString().ToLowerInvariant()} " +
            $"layout (expected {Expected(layout)}{(split is null ? "" : $", in {split}/ or directly")})");
    }

    static string Expected(DatasetLayout layout) => layout switch
    {
        DatasetLayout.Paired => "input/ and target/",
        DatasetLayout.Istd => "X_A/ (shadow), X_B/ (mask), X_C/ (shadow-free), e.g. test_A, test_B, test_C",
        DatasetLayout.Raindrop => "data/ (N_rain.png) and gt/ (N_clean.png)",
        DatasetLayout.GoPro => "<scene>/blur/ and <scene>/sharp/",
        DatasetLayout.Rice => "cloudy_image/ and ground_truth/",
        _ => "",
    };

    static bool Looks(string dir, DatasetLayout layout, string? split) => layout switch
    {
        DatasetLayout.Paired => Directory.Exists(Path.Combine(dir, "input"))
            && Directory.Exists(Path.Combine(dir, "target")),
        DatasetLayout.Istd => IstdDirs(dir, split) is not null,
        DatasetLayout.Raindrop => Directory.Exists(Path.Combine(dir, "data"))
            && Directory.Exists(Path.Combine(dir, "gt")),
        DatasetLayout.GoPro => GoProScenes(dir).Count > 0,
        DatasetLayout.Rice => Directory.Exists(Path.Combine(dir, "cloudy_image"))
            && Directory.Exists(Path.Combine(dir, "ground_truth")),
        _ => false,
    };

    static List<PairedItem> ReadAt(string dir, DatasetLayout layout, string? split)
    {
        switch (layout)
        {
            case DatasetLayout.Paired:
                return MatchByStem(Path.Combine(dir, "input"), Path.Combine(dir, "target"), null, "input", "target");
            case DatasetLayout.Istd:
                var (a, b, c) = IstdDirs(dir, split)!.Value;
                return MatchByStem(a, c, b, "shadow (A)", "shadow-free (C)", "mask (B)");
            case DatasetLayout.Raindrop:
                return MatchByStem(Path.Combine(dir, "data"), Path.Combine(dir, "gt"), null, "data", "gt");
            case DatasetLayout.Rice:
                return MatchByStem(Path.Combine(dir, "cloudy_image"), Path.Combine(dir, "ground_truth"), null,
                    "cloudy_image", "ground_truth");
            case DatasetLayout.GoPro:
                var all = new List<PairedItem>();
                foreach (var scene in GoProScenes(dir))
                    all.AddRange(MatchByStem(Path.Combine(scene, "blur"), Path.Combine(scene, "sharp"), null,
                        "blur", "sharp", namePrefix: Path.GetFileName(scene) + "/"));
                return all;
            default:
                throw new ArgumentOutOfRangeException(nameof(layout));
        }
    }

    static List<string> GoProScenes(string dir) =>
        Directory.EnumerateDirectories(dir)
            .Where(s => Directory.Exists(Path.Combine(s, "blur")) && Directory.Exists(Path.Combine(s, "sharp")))
            .OrderBy(s => s, StringComparer.Ordinal).ToList();

    /// <summary>The A (shadow), B (mask), C (shadow-free) folders: "&lt;x&gt;_A" etc. (preferring the split's prefix),
    /// or plain A, B, C.</summary>
    static (string A, string B, string C)? IstdDirs(string dir, string? split)
    {
        var subs = Directory.EnumerateDirectories(dir).Select(Path.GetFileName).OfType<string>().ToList();
        string? Find(string letter)
        {
            var hits = subs.Where(s => s.EndsWith("_" + letter, StringComparison.OrdinalIgnoreCase)
                || string.Equals(s, letter, StringComparison.OrdinalIgnoreCase)).ToList();
            if (hits.Count > 1)
            {
                var prefer = new[] { split, Path.GetFileName(dir), "test" }.OfType<string>()
                    .Select(p => hits.FirstOrDefault(h => h.StartsWith(p + "_", StringComparison.OrdinalIgnoreCase)))
                    .FirstOrDefault(h => h is not null);
                if (prefer is null)
                    throw new UserInputException($"ISTD folder {dir}: several {letter} folders " +
                        $"({string.Join(", ", hits)}); name the split to use");
                hits = [prefer];
            }
            return hits.Count == 1 ? Path.Combine(dir, hits[0]) : null;
        }
        var a = Find("A"); var b = Find("B"); var c = Find("C");
        return a is null || b is null || c is null ? null : (a, b, c);
    }

    /// <summary>
    /// Refuses pairs whose images differ in size (read from the headers), naming every offender.
    /// With <paramref name="allowMismatch"/> nothing is checked (protocols that resize everything).
    /// </summary>
    public static void CheckSizes(IReadOnlyList<PairedItem> items, bool allowMismatch = false,
        string inputLabel = "input", string targetLabel = "target")
    {
        if (allowMismatch) return;
        var bad = new List<string>();
        foreach (var it in items)
        {
            var ti = ImageCodec.Probe(it.Target);
            var ii = ImageCodec.Probe(it.Input);
            if (ii != ti)
                bad.Add($"{it.Name} ({inputLabel} {ii.Width}x{ii.Height}, {targetLabel} {ti.Width}x{ti.Height})");
            if (it.Mask is not null)
            {
                var mi = ImageCodec.Probe(it.Mask);
                if (mi != ti) bad.Add($"{it.Name} (mask {mi.Width}x{mi.Height}, {targetLabel} {ti.Width}x{ti.Height})");
            }
        }
        if (bad.Count > 0)
            throw new UserInputException($"{bad.Count} pair(s) differ in size: {List(bad)}");
    }
}
