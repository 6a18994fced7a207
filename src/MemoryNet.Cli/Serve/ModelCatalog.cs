using System.Buffers.Binary;
using System.Text.Json;
using MemoryNet.Architectures;
using MemoryNet.Data;
using MemoryNet.Inference;
using MemoryNet.Weights;

namespace MemoryNet.Cli.Serve;

/// <summary>One model the server can use: the --model file or a bundled models/*.safetensors.</summary>
public sealed class CatalogEntry
{
    readonly Lazy<(RestorationNet Model, Restorer Restorer)> _loaded;

    internal CatalogEntry(string name, string? task, string arch, string source, string path, int? tlc,
        Func<RestorationNet> load)
    {
        Name = name; Task = task; Arch = arch; Source = source; Path = path; Tlc = tlc;
        _loaded = new(() => { var m = load(); return (m, new Restorer(m)); },
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Name { get; }
    /// <summary>The task the model is for (one of <see cref="RestorationTasks"/>), when known.</summary>
    public string? Task { get; }
    /// <summary>The architecture preset name (or "custom"), from the file's metadata or the loaded network.</summary>
    public string Arch { get; private set; }
    /// <summary>"file" (given with --model) or "bundled".</summary>
    public string Source { get; }
    public string Path { get; }
    /// <summary>The training patch the model restores with test-time local statistics at (the file's default), or
    /// null for global means.</summary>
    public int? Tlc { get; }
    public bool Loaded => _loaded.IsValueCreated;

    /// <summary>Loads the network once (later calls reuse it).</summary>
    public Restorer Restorer
    {
        get
        {
            var r = _loaded.Value.Restorer;
            Arch = r.Model.Spec.Name;
            return r;
        }
    }

    internal void Unload() { if (_loaded.IsValueCreated) _loaded.Value.Model.Dispose(); }
}

/// <summary>The models a server offers; each is loaded on first use and cached for the server's life.</summary>
public sealed class ModelCatalog : IDisposable
{
    readonly List<CatalogEntry> _entries = [];

    /// <summary>The --model file, loaded at start-up so that a bad file fails before the server listens.</summary>
    public CatalogEntry? Default { get; }

    public IReadOnlyList<CatalogEntry> Entries => _entries;

    public ModelCatalog(string? modelPath, string? arch, string? bundledFolder)
    {
        if (modelPath is not null)
        {
            if (!File.Exists(modelPath) && BundledModels.TryFind(modelPath) is { } bundled) modelPath = bundled;
            if (!File.Exists(modelPath)) throw new UserInputException($"{modelPath}: weights file not found");
            var spec = arch is null ? null : ArchRegistry.FromName(arch);
            var model = ModelFile.LoadForRestoring(modelPath, spec, null, out var meta, out int? tlc);
            var path = modelPath;
            Default = new CatalogEntry(System.IO.Path.GetFileNameWithoutExtension(path), TaskOf(path, meta),
                model.Spec.Name, "file", path, tlc, () => model);
            _ = Default.Restorer; // marks it loaded
            _entries.Add(Default);
        }
        if (bundledFolder is not null && Directory.Exists(bundledFolder))
        {
            foreach (var path in Directory.EnumerateFiles(bundledFolder, "*.safetensors").Order(StringComparer.Ordinal))
            {
                string name = System.IO.Path.GetFileNameWithoutExtension(path);
                if (_entries.Any(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))) continue;
                Dictionary<string, string> meta;
                int? tlc;
                try { meta = ReadSafetensorsMetadata(path); tlc = ModelFile.DefaultTlc(meta, path); }
                catch (Exception e) when (e is IOException or InvalidDataException or JsonException
                    or UserInputException)
                {
                    continue; // not a usable file: not offered
                }
                string archName = ArchRegistry.FromMetadata(meta)?.Name ?? "unknown";
                var p = path;
                _entries.Add(
                    new CatalogEntry(name, TaskOf(path, meta), archName, "bundled", path, tlc,
                        () => ModelFile.LoadForRestoring(p, null, null, out _, out _)));
            }
        }
    }

    static string? TaskOf(string path, IReadOnlyDictionary<string, string> meta)
    {
        if (meta.TryGetValue("task", out var t) && RestorationTasks.IsKnown(t)) return t;
        string stem = System.IO.Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
        return RestorationTasks.IsKnown(stem) ? stem : null;
    }

    /// <summary>The model a request names: a task, a model name, or neither (the --model file, or the only
    /// model).</summary>
    public CatalogEntry Resolve(string? task, string? model)
    {
        if (task is not null && model is not null)
            throw new UserInputException("give either 'task' or 'model', not both");
        if (task is not null)
        {
            RestorationTasks.Get(task);
            return _entries.FirstOrDefault(e => e.Source == "bundled" && e.Task == task)
                ?? _entries.FirstOrDefault(e => e.Task == task)
                ?? throw new UserInputException($"no model for task '{task}': models/{task}.safetensors is not " +
                    $"installed on this server{Available()}");
        }
        if (model is not null)
            return _entries.FirstOrDefault(e => e.Name.Equals(model, StringComparison.OrdinalIgnoreCase))
                ?? throw new UserInputException($"unknown model '{model}'{Available()}");
        if (Default is not null) return Default;
        if (_entries.Count == 1) return _entries[0];
        throw new UserInputException(_entries.Count == 0
            ? "this server has no models (start it with --model FILE, or install models/<task>.safetensors)"
            : $"give 'task' or 'model'{Available()}");
    }

    string Available() => _entries.Count == 0
        ? " (this server has no models: start it with --model FILE)"
        : $" (available: {string.Join(", ", _entries.Select(e => e.Task is null ? e.Name : $"{e.Name} [{e.Task}]"))})";

    /// <summary>The safetensors __metadata__ without reading the tensors.</summary>
    public static Dictionary<string, string> ReadSafetensorsMetadata(string path)
    {
        using var fs = File.OpenRead(path);
        Span<byte> len = stackalloc byte[8];
        fs.ReadExactly(len);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (n > 100_000_000 || (long)n > fs.Length - 8)
            throw new InvalidDataException($"{path}: not a safetensors file");
        var header = new byte[n];
        fs.ReadExactly(header);
        using var doc = JsonDocument.Parse(header);
        var result = new Dictionary<string, string>();
        if (doc.RootElement.TryGetProperty("__metadata__", out var meta) && meta.ValueKind == JsonValueKind.Object)
            foreach (var p in meta.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String) result[p.Name] = p.Value.GetString()!;
        return result;
    }

    public void Dispose() { foreach (var e in _entries) e.Unload(); }
}
