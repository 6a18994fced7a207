using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MemoryNet.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Weights;

/// <summary>Tensors and metadata read from a weights file, keys normalised (no 'module.' prefix).</summary>
public sealed record Checkpoint(string Path, List<KeyValuePair<string, Tensor>> Tensors, Dictionary<string, string> Metadata) : IDisposable
{
    public Dictionary<string, Tensor> ByName() => Tensors.GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);
    public void Dispose() { foreach (var (_, t) in Tensors) t.Dispose(); }
}

/// <summary>
/// Loads and saves network weights: PyTorch .pth/.pt (plain state_dict, or a dict holding 'state_dict' as the
/// official training scripts save, 'module.' prefixes), and this project's safetensors with metadata naming the
/// architecture. Infers the architecture from tensor shapes when nothing names it.
/// </summary>
public static partial class ModelFile
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
            throw new UserInputException($"{path}: not a readable PyTorch checkpoint or safetensors file ({e.GetType().Name}: {e.Message})");
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
            var tensors = Entries(dict).Where(e => e.Value is Tensor).Select(e => new KeyValuePair<string, Tensor>(e.Key.ToString()!, (Tensor)e.Value!)).ToList();
            if (tensors.Count > 0 && tensors.Count >= dict.Count / 2) return tensors;
            foreach (var key in new[] { "state_dict", "params_ema", "params", "model_state_dict", "model", "net", "generator" })
                if (dict.Contains(key) && dict[key] is IDictionary inner) return FindStateDict(inner, path);
        }
        throw new InvalidDataException(graph is Razorvine.Pickle.Objects.ClassDict cd
            ? $"holds a pickled '{cd.ClassName}' object, not a state_dict (re-save it with torch.save(model.state_dict(), ...))"
            : "no state_dict found (expected a dict of tensors or a dict holding 'state_dict')");
    }

    static IEnumerable<DictionaryEntry> Entries(IDictionary d) =>
        d is PthReader.OrderedDict od ? od.Order.Select(k => new DictionaryEntry(k, od[k])) : d.Cast<DictionaryEntry>();

    static List<KeyValuePair<string, Tensor>> Normalise(List<KeyValuePair<string, Tensor>> tensors) =>
        tensors.Select(kv => new KeyValuePair<string, Tensor>(kv.Key.StartsWith("module.") ? kv.Key["module.".Length..] : kv.Key, kv.Value)).ToList();

    /// <summary>The architecture of a checkpoint: from its metadata, else inferred from shapes.</summary>
    public static ArchSpec SpecOf(Checkpoint ckpt) => SpecFromMetadata(ckpt.Metadata) ?? InferSpec(ckpt.ByName(), ckpt.Path);

    public static ArchSpec? SpecFromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("arch", out var json)) return null;
        var o = JsonNode.Parse(json)!.AsObject();
        int I(string k, int d) => o[k]?.GetValue<int>() ?? d;
        return new ArchSpec(o["name"]?.GetValue<string>() ?? "custom", I("n_feat", 40), I("scale_unetfeats", 20), I("scale_orsnetfeats", 16),
            I("num_cab", 8), I("memory_branches", 3), I("ptt_num", 2), I("num_cls", 10), I("part_num", 5), I("reduction", 4), I("kernel_size", 3),
            o["feature_memory"]?.GetValue<string>() ?? "none", o["head"]?.GetValue<string>() ?? "residual");
    }

    public static string ArchJson(ArchSpec s) => new JsonObject
    {
        ["name"] = s.Name, ["n_feat"] = s.NFeat, ["scale_unetfeats"] = s.ScaleUnetFeats, ["scale_orsnetfeats"] = s.ScaleOrsnetFeats,
        ["num_cab"] = s.NumCab, ["memory_branches"] = s.MemoryBranches, ["ptt_num"] = s.PttNum, ["num_cls"] = s.NumCls,
        ["part_num"] = s.PartNum, ["reduction"] = s.Reduction, ["kernel_size"] = s.KernelSize, ["feature_memory"] = s.FeatureMemory,
        ["head"] = s.Head,
    }.ToJsonString();

    [GeneratedRegex(@"^stage3_orsnet\.orb1\.body\.(\d+)\.CA\.conv_du\.0\.weight$")]
    private static partial Regex OrbCab();

    /// <summary>Reads n_feat, scale_unetfeats, scale_orsnetfeats, num_cab, reduction and the memory sizes off tensor shapes.</summary>
    public static ArchSpec InferSpec(IReadOnlyDictionary<string, Tensor> sd, string path)
    {
        long Dim(string key, int axis) => sd.TryGetValue(key, out var t) && t.dim() > axis ? t.shape[axis]
            : throw new UserInputException($"{path}: cannot infer the architecture: key '{key}' is missing (is this a MemoryNet/MPRNet checkpoint?)");
        int n = (int)Dim("shallow_feat1.0.weight", 0);
        int k = (int)Dim("shallow_feat1.0.weight", 2);
        int s = (int)Dim("stage1_encoder.down12.down.1.weight", 0) - n;
        int o = (int)Dim("concat23.weight", 0) - n;
        int reduction = n / (int)Dim("shallow_feat1.1.CA.conv_du.0.weight", 0);
        int numCab = sd.Keys.Count(key => OrbCab().IsMatch(key));
        if (numCab == 0) throw new UserInputException($"{path}: cannot infer num_cab (no stage3_orsnet.orb1 CABs)");
        ArchSpec spec;
        if (sd.ContainsKey("memory.memory.weight"))
        {
            int parts = (int)Dim("memory.memory.reweight_layer_part.weight", 0);
            int ptt = (int)Dim("memory.memory.reweight_layer_ins.weight", 0);
            int items = (int)Dim("memory.memory.weight", 0);
            spec = new ArchSpec("custom", n, s, o, numCab, 3, ptt, items / (ptt * parts), parts, reduction, k);
        }
        else spec = new ArchSpec("custom", n, s, o, numCab, 0, Reduction: reduction, KernelSize: k);
        bool enc = sd.ContainsKey("fmem_enc1.memory.weight"), dec = sd.ContainsKey("fmem_dec1.memory.weight");
        spec = spec with { FeatureMemory = enc && dec ? "both" : enc ? "encoder" : dec ? "decoder" : "none" };
        if (Dim("tail.weight", 0) == 6) spec = spec with { Head = "affine" };
        return spec.Canonical();
    }

    /// <summary>Builds the network a file describes (or <paramref name="arch"/> when given) and loads its weights.</summary>
    public static MemoryNetModel Load(string path, ArchSpec? arch = null) => Load(path, arch, out _);

    public static MemoryNetModel Load(string path, ArchSpec? arch, out Dictionary<string, string> metadata)
    {
        using var ckpt = Read(path);
        metadata = ckpt.Metadata;
        var fromFile = SpecFromMetadata(ckpt.Metadata);
        if (fromFile is not null && arch is not null && fromFile with { Name = "" } != arch with { Name = "" })
            throw new UserInputException($"{path}: the file says it is {fromFile.Describe()}, but --arch asks for {arch.Describe()}; drop --arch");
        var spec = fromFile ?? arch ?? InferSpec(ckpt.ByName(), path);
        var model = new MemoryNetModel(spec);
        try { Apply(model, ckpt, spec); }
        catch { model.Dispose(); throw; }
        model.eval();
        return model;
    }

    /// <summary>Copies the checkpoint into the model; any missing, unexpected or wrongly shaped key is one clear error naming them.</summary>
    public static void Apply(nn.Module model, Checkpoint ckpt, ArchSpec spec)
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
                var inferred = InferSpec(file, ckpt.Path);
                if (inferred != spec) hint = $"; its shapes suggest {inferred.Describe()}";
            }
            catch (UserInputException) { }
            throw new UserInputException($"{ckpt.Path}: weights do not fit {spec.Describe()}: {string.Join("; ", parts)}{hint}");
        }
        using (no_grad())
            foreach (var (key, target) in entries)
                target.copy_(file[key].to(target.dtype));
    }

    /// <summary>
    /// A residual checkpoint as the equivalent affine-head one (see <see cref="ArchSpec.Head"/>): gain rows zero,
    /// offset rows the residual, so fine-tuning starts from the same outputs. Affine checkpoints come back unchanged.
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
    public static MemoryNetModel Average(IReadOnlyList<string> paths, out Dictionary<string, string> firstMetadata)
    {
        if (paths.Count == 0) throw new UserInputException("give at least one weights file to average");
        var model = Load(paths[0], null, out firstMetadata);
        try
        {
            // a parameter shared by several modules (MPRNet's PReLUs) is listed under each name: sum it once
            var seen = new HashSet<IntPtr>();
            var sum = StateDict.Entries(model).Where(kv => kv.Value.is_floating_point() && seen.Add(kv.Value.Handle)).ToList();
            foreach (var path in paths.Skip(1))
            {
                using var other = Load(path);
                if (other.Spec with { Name = "" } != model.Spec with { Name = "" })
                    throw new UserInputException($"{path}: {other.Spec.Describe()}, but {paths[0]} is {model.Spec.Describe()}; only one architecture can be averaged");
                var theirs = StateDict.Entries(other).ToDictionary(kv => kv.Key, kv => kv.Value);
                using var _ = no_grad();
                foreach (var (key, t) in sum) t.add_(theirs[key], ScalarOps.One);
            }
            using (no_grad())
                foreach (var (_, t) in sum) t.div_(paths.Count);
            return model;
        }
        catch { model.Dispose(); throw; }
    }

    static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";

    static string List(List<string> items, int max = 6) =>
        string.Join(", ", items.Take(max)) + (items.Count > max ? $", … {items.Count - max} more" : "");

    /// <summary>Saves the model in this project's format: safetensors with the architecture (and any extra facts) in the metadata.</summary>
    public static void Save(MemoryNetModel model, string path, IReadOnlyDictionary<string, string>? extra = null)
    {
        using var scope = torch.NewDisposeScope(); // the views and copies made while writing
        var meta = new Dictionary<string, string> { ["format"] = FormatTag, ["arch"] = ArchJson(model.Spec) };
        if (extra is not null) foreach (var (k, v) in extra) meta[k] = v;
        Safetensors.Write(path, StateDict.Entries(model), meta);
    }
}
