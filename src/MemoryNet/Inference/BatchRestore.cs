using MemoryNet.Imaging;

namespace MemoryNet.Inference;

/// <summary>
/// Where each input of a batch restore is written. With one input file and an output that has an image extension (and
/// is not a folder), the output is that file; otherwise it is a folder where each output keeps its input's name (the
/// extension changed to <c>format</c> when one is given). Decided over all inputs, not one shard's, so that every shard
/// of a batch agrees; two inputs that map to one output, or an output that would overwrite an input, are problems of
/// those inputs (<see cref="Conflict"/>), not of the batch.
/// </summary>
public sealed class OutputPlan
{
    /// <summary>The formats a restore writes.</summary>
    public static readonly string[] Formats = ["png", "jpg", "webp", "bmp"];

    readonly Dictionary<string, string> _targets = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _owner = new(StringComparer.Ordinal);
    readonly HashSet<string> _inputs;

    /// <summary>The output is one file (rather than a folder).</summary>
    public bool SingleFile { get; }

    /// <summary>The output format ("png", "jpg", …) asked for, or null to keep each input's.</summary>
    public string? Format { get; }

    /// <param name="inputs">Every input file of the batch (full paths).</param>
    /// <param name="singleInputArgument">The batch was given as one existing file (not a folder or pattern).</param>
    public OutputPlan(IReadOnlyList<string> inputs, bool singleInputArgument, string output, string? format)
    {
        Format = format is null ? null : FormatName(format);
        if (Format is not null && !Formats.Contains(Format))
            throw new UserInputException($"output format '{format}' is not one of {string.Join(", ", Formats)}");
        // one input file: the output is a file, unless it names a folder (existing, or a name without an extension,
        // which could not be written as an image anyway); a file name that cannot be written is refused before any work
        SingleFile = inputs.Count == 1 && singleInputArgument && !Directory.Exists(output)
            && Path.GetExtension(output) != "";
        if (SingleFile && !Formats.Contains(FormatName(Path.GetExtension(output))))
            throw new UserInputException($"{output}: cannot write '{Path.GetExtension(output)}' images (use " +
                $".{string.Join(", .", Formats)}, or name a folder)");
        _inputs = new HashSet<string>(inputs, StringComparer.Ordinal);
        foreach (var f in inputs)
        {
            string name = Format is null ? Path.GetFileName(f)
                : Path.ChangeExtension(Path.GetFileName(f), "." + Format);
            string target = Path.GetFullPath(SingleFile ? output : Path.Combine(output, name));
            _targets[f] = target;
            _owner.TryAdd(target, f);
        }
    }

    public string TargetOf(string input) => _targets[input];

    /// <summary>Why <paramref name="input"/> cannot be written (its output belongs to another input, or is an input),
    /// or null.</summary>
    public string? Conflict(string input)
    {
        string target = _targets[input];
        if (_owner[target] != input)
            return $"{input}: its output {target} is also the output of {_owner[target]} (rename one, or " +
                "restore them separately)";
        if (_inputs.Contains(target))
            return $"{input}: its output {target} would overwrite an input (choose another output folder)";
        return null;
    }

    /// <summary>An image format name or extension as <see cref="Formats"/> spells it ("JPEG", ".jpeg" →
    /// "jpg").</summary>
    public static string FormatName(string nameOrExtension)
    {
        string f = nameOrExtension.Trim().TrimStart('.').ToLowerInvariant();
        return f == "jpeg" ? "jpg" : f;
    }

    /// <summary>NAME.EXT → NAME.side.EXT beside it (the input|output strip).</summary>
    public static string SidePath(string target) =>
        Path.Combine(Path.GetDirectoryName(target) ?? ".",
            Path.GetFileNameWithoutExtension(target) + ".side" + Path.GetExtension(target));
}

/// <summary>How each file of a batch is restored and written.</summary>
/// <param name="Bits">Output depth; null: 16 for a 16-bit input written as PNG, else 8.</param>
/// <param name="SideBySide">Also write the input|output strip (<see cref="OutputPlan.SidePath"/>).</param>
/// <param name="SkipExisting">Leave an input whose outputs already exist.</param>
/// <param name="Quality">JPEG and WebP quality, 1–100.</param>
public sealed record FileRestoreSettings(int? Bits, long MaxPixels, TileSettings Tiling, bool SideBySide,
    bool SkipExisting, int Quality = 95);

public enum FileOutcome { Restored, AlreadyDone }

/// <summary>What became of one input: restored to <paramref name="Output"/>, or already there.</summary>
public sealed record FileResult(FileOutcome Outcome, string Output);

/// <summary>Restores one file of a batch to its planned output. A bad input is an
/// <see cref="ImageFormatException"/>.</summary>
public static class BatchRestore
{
    public static FileResult RestoreFile(Restorer restorer, OutputPlan plan, string input, FileRestoreSettings s,
        Action<int, int>? tileProgress = null)
    {
        if (plan.Conflict(input) is { } conflict) throw new ImageFormatException(conflict);
        string target = plan.TargetOf(input);
        if (s.SkipExisting && File.Exists(target) && (!s.SideBySide || File.Exists(OutputPlan.SidePath(target))))
            return new(FileOutcome.AlreadyDone, target);
        var image = ImageCodec.Read(input, s.MaxPixels);
        // large images: drop the file bytes and decode buffers now rather than carry them through inference
        if (image.PixelCount >= 4_000_000) GC.Collect();
        bool png = target.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
        int depth = s.Bits ?? (image.BitDepth == 16 && (png || plan.Format is null) ? 16 : 8);
        if (depth == 16 && !png) target = Path.ChangeExtension(target, ".png"); // keep 16 bits rather than drop to 8
        var restored = ImageRestorer.Restore(restorer, image, depth, s.Tiling, tileProgress);
        if (image.PixelCount >= 4_000_000 && !s.SideBySide) { image = null!; GC.Collect(); }
        ImageCodec.Write(restored, target, depth, s.Quality);
        if (s.SideBySide)
            ImageCodec.Write(ComparisonStrip.Make([image, restored], gap: 0), OutputPlan.SidePath(target),
                depth, s.Quality);
        return new(FileOutcome.Restored, target);
    }
}
