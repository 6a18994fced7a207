using System.Collections;
using System.Text.Json.Nodes;
using System.Text.Json;
using MemoryNet.Architectures;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Weights;

/// <summary>Tensors and metadata read from a weights file, keys normalised (no 'module.' prefix).</summary>
public sealed record Checkpoint(string Path, List<KeyValuePair<string, Tensor>> Tensors,
    Dictionary<string, string> Metadata) : IDisposable
{
    public Dictionary<string, Tensor> ByName() =>
        Tensors.GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);
    public void Dispose() { foreach (var (_, t) in Tensors) t.Dispose(); }
}

/// <summary>
/// Loads and saves network weights: PyTorch .pth/.pt (plain state_dict, or a dict holding 'state_dict' as the
/// official training scripts save, 'module.' prefixes), and this project's safetensors with metadata naming the
/// architecture. Infers the architecture from tensor shapes when nothing names it.
/// </summary>
public static class ModelFile
{
    public const string FormatTag = "memorynet-dotnet/1";

    public static Checkpoint Read(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path}: weights file not found");
        try
        {
            string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
            if (ext == ".safetensors" || LooksLikeSafetensors(path))
            {
                var (tensors, meta) = Safetensors.Read(path);
                return new Checkpoint(path, Normalise(tensors), meta);
            }
            var graph = PthReader.Read(path);
            return new Checkpoint(path, Normalise(FindStateDict(graph, path)), []);
        }
        catch (InvalidDataException e) { throw new UserInputException($"{path}: {e.Message}"); }
        catch (Exception e) when (e is not UserInputException and not IOException and not OutOfMemoryException)
        {
            // the unpickler reports garbage in many ways (index, cast, pickle errors): one line for all of them
            throw new UserInputException(
                $"{path}: not a readable PyTorch checkpoint or safetensors file ({e.GetType().Name}: {e.Message})");
        }
    }

    static bool LooksLikeSafetensors(string path)
    {
        using var fs = File.OpenRead(path);
        var b = new byte[9];
        return fs.Read(b, 0, 9) == 9 && b[8] == (byte)'{' && BitConverter.ToUInt64(b, 0) < 100_000_000;
    }

    /// <summary>The state_dict inside an unpickled object: the dict of tensors itself, or under a usual key.</summary>
    static List<KeyValuePair<string, Tensor>> FindStateDict(object graph, string path)
    {
        if (graph is IDictionary dict)
        {
            var tensors = Entries(dict).Where(e => e.Value is Tensor)
                .Select(e => new KeyValuePair<string, Tensor>(e.Key.ToString()!, (Tensor)e.Value!)).ToList();
            if (tensors.Count > 0 && tensors.Count >= dict.Count / 2) return tensors;
            foreach (var key in new[] { "state_dict", "params_ema", "params", "model_state_dict", "model", "net",
                "generator" })
                if (dict.Contains(key) && dict[key] is IDictionary inner) return FindStateDict(inner, path);
        }
        throw new InvalidDataException(graph is Razorvine.Pickle.Objects.ClassDict cd
            ? $"holds a pickled '{cd.ClassName}' object, not a state_dict (re-save it with " +
                "torch.save(model.state_dict(), ...))"
            : "no state_dict found (expected a dict of tensors or a dict holding 'state_dict')");
    }

    static IEnumerable<DictionaryEntry> Entries(IDictionary d) =>
        d is PthReader.OrderedDict od ? od.Order.Select(k => new DictionaryEntry(k, od[k])) : d.Cast<DictionaryEntry>();

    static List<KeyValuePair<string, Tensor>> Normalise(List<KeyValuePair<string, Tensor>> tensors) =>
        tensors.Select(kv => new KeyValuePair<string, Tensor>(
            kv.Key.StartsWith("module.") ? kv.Key["module.".Length..] : kv.Key, kv.Value)).ToList();

    /// <summary>The architecture of a checkpoint: from its metadata, else read off its shapes by the family that
    /// recognises its keys (<see cref="ArchRegistry"/>).</summary>
    public static NetSpec SpecOf(Checkpoint ckpt) =>
        ArchRegistry.FromMetadata(ckpt.Metadata) ?? ArchRegistry.Infer(ckpt.ByName(), ckpt.Path);

    /// <summary>Builds the network a file describes (or <paramref name="arch"/> when given) and loads its
    /// weights.</summary>
    public static RestorationNet Load(string path, NetSpec? arch = null) => Load(path, arch, out _);

    public static RestorationNet Load(string path, NetSpec? arch, out Dictionary<string, string> metadata)
    {
        using var ckpt = Read(path);
        metadata = ckpt.Metadata;
        var fromFile = ArchRegistry.FromMetadata(ckpt.Metadata);
        if (fromFile is not null && arch is not null && fromFile with { Name = "" } != arch with { Name = "" })
            throw new UserInputException($"{path}: the file says it is {fromFile.Describe()}, but the architecture " +
                $"asked for is {arch.Describe()}; leave it unset to use the file's");
        var spec = fromFile ?? arch ?? ArchRegistry.Infer(ckpt.ByName(), path);
        var model = spec.Build();
        try { Apply(model, ckpt, spec); }
        catch { model.Dispose(); throw; }
        model.eval();
        return model;
    }

    /// <summary>The metadata key of the training patch at which a model restores with test-time local statistics
    /// by default (<see cref="RestorationNet.UseLocalStatistics"/>), as the official NAFNet code restores GoPro with
    /// its local variant: set by the model's maker where large images measured better with it.</summary>
    public const string TlcKey = "tlc";

    /// <summary>The training patch a file's metadata asks test-time local statistics at, if any.</summary>
    public static int? DefaultTlc(IReadOnlyDictionary<string, string> metadata, string path) =>
        !metadata.TryGetValue(TlcKey, out var text) ? null
        : int.TryParse(text, out int patch) && patch > 0 ? patch
        : throw new UserInputException(
            $"{path}: metadata '{TlcKey}' must be a training patch in pixels (got '{text}')");

    /// <summary>
    /// Loads a network for restoring: as <see cref="Load(string, NetSpec?, out Dictionary{string, string})"/>, with
    /// test-time local statistics at <paramref name="tlc"/> when given (0: the global means), else at the patch the
    /// file records (<see cref="TlcKey"/>).
    /// </summary>
    public static RestorationNet LoadForRestoring(string path, int? tlc = null) =>
        LoadForRestoring(path, null, tlc, out _, out _);

    /// <summary>As <see cref="LoadForRestoring(string, int?)"/> with an architecture for files that name none;
    /// <paramref name="usedTlc"/> is the patch in use, null for the global means.</summary>
    public static RestorationNet LoadForRestoring(string path, NetSpec? arch, int? tlc,
        out Dictionary<string, string> metadata, out int? usedTlc)
    {
        var model = Load(path, arch, out metadata);
        try
        {
            usedTlc = tlc switch
            {
                < 0 => throw new UserInputException(
                    $"tlc must be a training patch in pixels, or 0 for global means (got {tlc})"),
                0 => null,
                int patch => patch,
                null => DefaultTlc(metadata, path),
            };
            if (usedTlc is not null) model.UseLocalStatistics(usedTlc);
            return model;
        }
        catch { model.Dispose(); throw; }
    }

    /// <summary>Copies the checkpoint into the model; any missing, unexpected or wrongly shaped key is one clear error
    /// naming them.</summary>
    public static void Apply(nn.Module model, Checkpoint ckpt, NetSpec spec)
    {
        var file = ckpt.ByName();
        var entries = StateDict.Entries(model);
        var ours = entries.Select(e => e.Key).ToHashSet();
        var missing = entries.Where(e => !file.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        var unexpected = file.Keys.Where(k => !ours.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var wrong = entries.Where(e => file.TryGetValue(e.Key, out var t) && !t.shape.SequenceEqual(e.Value.shape))
            .Select(e => $"{e.Key}: file {Shape(file[e.Key])} vs model {Shape(e.Value)}").ToList();
        if (missing.Count + unexpected.Count + wrong.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"{missing.Count} missing ({List(missing)})");
            if (unexpected.Count > 0) parts.Add($"{unexpected.Count} unexpected ({List(unexpected)})");
            if (wrong.Count > 0) parts.Add($"{wrong.Count} wrongly shaped ({List(wrong)})");
            string hint = "";
            try
            {
                var inferred = ArchRegistry.Infer(file, ckpt.Path);
                if (inferred != spec) hint = $"; its shapes suggest {inferred.Describe()}";
            }
            catch (UserInputException) { }
            throw new UserInputException(
                $"{ckpt.Path}: weights do not fit {spec.Describe()}: {string.Join("; ", parts)}{hint}");
        }
        using (no_grad())
            foreach (var (key, target) in entries)
                target.copy_(file[key].to(target.dtype));
    }

    /// <summary>
    /// A residual checkpoint as the equivalent affine-head one (see <see cref="Architectures.Mpr.ArchSpec.Head"/>):
    /// gain rows zero, offset rows the residual, so fine-tuning starts from the same outputs. Affine checkpoints come
    /// back unchanged.
    /// </summary>
    public static Checkpoint WithAffineTail(Checkpoint ckpt)
    {
        if (!ckpt.ByName().TryGetValue("tail.weight", out var w) || w.shape[0] != 3) return ckpt;
        var tensors = ckpt.Tensors.Select(kv => kv.Key is "tail.weight" or "tail.bias"
            ? new KeyValuePair<string, Tensor>(kv.Key, cat([zeros_like(kv.Value), kv.Value], 0))
            : kv).ToList();
        return ckpt with { Tensors = tensors };
    }

    /// <summary>
    /// The mean of several checkpoints of one architecture, weight by weight (checkpoint averaging, as in SWA and model
    /// soups): checkpoints along one fine-tuning run sit in one basin, and their mean is steadier than any one of them.
    /// A file of another architecture is refused with its name. <paramref name="firstMetadata"/> is the first file's.
    /// </summary>
    public static RestorationNet Average(IReadOnlyList<string> paths, out Dictionary<string, string> firstMetadata)
    {
        if (paths.Count == 0) throw new UserInputException("give at least one weights file to average");
        var model = Load(paths[0], null, out firstMetadata);
        try
        {
            // a parameter shared by several modules (MPRNet's PReLUs) is listed under each name: sum it once
            var seen = new HashSet<IntPtr>();
            var sum = StateDict.Entries(model).Where(kv => kv.Value.is_floating_point() && seen.Add(kv.Value.Handle))
                .ToList();
            foreach (var path in paths.Skip(1))
            {
                using var other = Load(path);
                if (other.Spec with { Name = "" } != model.Spec with { Name = "" })
                    throw new UserInputException($"{path}: {other.Spec.Describe()}, but {paths[0]} " +
                        $"is {model.Spec.Describe()}; only one architecture can be averaged");
                var theirs = StateDict.Entries(other).ToDictionary(kv => kv.Key, kv => kv.Value);
                using var _ = no_grad();
                foreach (var (key, t) in sum) t.add_(theirs[key], ScalarOps.One);
            }
            using (no_grad())
                foreach (var (_, t) in sum) t.DivK_(paths.Count);
            return model;
        }
        catch { model.Dispose(); throw; }
    }

    static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";

    static string List(List<string> items, int max = 6) =>
        string.Join(", ", items.Take(max)) + (items.Count > max ? $", … {items.Count - max} more" : "");

    /// <summary>Saves the model in this project's format: safetensors with the architecture (and any extra facts) in
    /// the metadata.</summary>
    public static void Save(RestorationNet model, string path, IReadOnlyDictionary<string, string>? extra = null)
    {
        using var scope = torch.NewDisposeScope(); // the views and copies made while writing
        var meta = new Dictionary<string, string>
        {
            ["format"] = FormatTag, ["arch"] = model.Spec.ToJson().ToJsonString()
        };
        if (extra is not null) foreach (var (k, v) in extra) meta[k] = v;
        Safetensors.Write(path, StateDict.Entries(model), meta);
    }
}
