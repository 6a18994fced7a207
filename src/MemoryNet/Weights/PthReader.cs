using System.Collections;
using System.IO.Compression;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Weights;

/// <summary>
/// Reads files written by <c>torch.save</c>: the zip format (PyTorch ≥ 1.6) and the legacy format (older releases,
/// in which many published checkpoints were saved). The pickle is interpreted, never executed: only tensors,
/// containers and primitive values are rebuilt; any other Python class becomes an inert ClassDict.
/// Returns the unpickled object graph (Hashtable / ArrayList / object[] / primitives / Tensor).
/// </summary>
public static class PthReader
{
    static readonly System.Numerics.BigInteger LegacyMagic =
        System.Numerics.BigInteger.Parse("01950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);
    static readonly object RegistryLock = new();

    public static object Read(string path)
    {
        using var fs = File.OpenRead(path);
        var head = new byte[4];
        if (fs.Read(head, 0, 4) < 4) throw new InvalidDataException("file is too short to be a PyTorch checkpoint");
        fs.Position = 0;
        return head[0] == 0x50 && head[1] == 0x4b ? ReadZip(fs) : ReadLegacy(fs);
    }

    static object ReadZip(Stream stream)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl") || e.FullName == "data.pkl")
                  ?? throw new InvalidDataException("zip file has no data.pkl: not a torch.save file");
        string root = pkl.FullName[..^"data.pkl".Length];
        var graph = Unpickle(pkl.Open());
        var storages = new Dictionary<string, byte[]>();
        return Materialise(graph, key =>
        {
            if (!storages.TryGetValue(key, out var bytes))
            {
                var entry = zip.GetEntry(root + "data/" + key)
                    ?? throw new InvalidDataException($"storage '{key}' missing from the archive");
                using var s = entry.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                storages[key] = bytes = ms.ToArray();
            }
            return bytes;
        });
    }

    static object ReadLegacy(Stream stream)
    {
        // legacy layout: pickle(magic) pickle(protocol) pickle(sys_info) pickle(object) pickle(storage keys) then raw
        // storages
        var magic = Unpickle(stream);
        if (magic is not System.Numerics.BigInteger big || big != LegacyMagic)
            throw new InvalidDataException(
                "not a PyTorch checkpoint (neither a zip archive nor the legacy torch.save format)");
        Unpickle(stream); // protocol version
        Unpickle(stream); // sys_info
        var graph = Unpickle(stream);
        var keys = ((IEnumerable)Unpickle(stream)).Cast<object>().Select(k => k.ToString()!).ToList();
        var sizes = new Dictionary<string, int>();
        CollectStorageSizes(graph, sizes, new HashSet<object>(ReferenceEqualityComparer.Instance));
        var storages = new Dictionary<string, byte[]>();
        var reader = new BinaryReader(stream);
        foreach (var key in keys)
        {
            long numel = reader.ReadInt64();
            int elem = sizes.TryGetValue(key, out var e) ? e
                : throw new InvalidDataException($"storage '{key}' has no known type");
            storages[key] = reader.ReadBytes(checked((int)(numel * elem)));
        }
        return Materialise(graph,
            key => storages.TryGetValue(key, out var b) ? b
            : throw new InvalidDataException($"storage '{key}' missing"));
    }

    static object Unpickle(Stream stream)
    {
        lock (RegistryLock)
        {
            // the constructor registry of Razorvine is global: (re)register ours for each load
            Unpickler.registerConstructor("torch._utils", "_rebuild_tensor", new RebuildTensor());
            Unpickler.registerConstructor("torch._utils", "_rebuild_tensor_v2", new RebuildTensor());
            Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", new RebuildParameter());
            Unpickler.registerConstructor("torch._utils", "_rebuild_parameter_with_state", new RebuildParameter());
            Unpickler.registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
            using var u = new StorageUnpickler();
            return u.load(stream);
        }
    }

    /// <summary>A reference to a storage blob, resolved after unpickling.</summary>
    sealed record StorageRef(string Key, ScalarType DType, int ElementSize, long Numel, long ViewOffset);

    /// <summary>A tensor waiting for its storage bytes.</summary>
    sealed record PendingTensor(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    sealed class StorageUnpickler : Unpickler
    {
        protected override object persistentLoad(object pid)
        {
            var t = (object[])pid;
            if (t.Length < 5 || t[0] as string != "storage")
                throw new InvalidDataException("unknown persistent id in pickle");
            string typeName = t[1] switch
            {
                ClassDictConstructor c => c.name,
                string s => s,
                _ => t[1]?.ToString() ?? "",
            };
            var (dtype, size) = DTypeOf(typeName);
            long numel = Convert.ToInt64(t[4]);
            long viewOffset = 0;
            if (t.Length > 5 && t[5] is object[] view && view.Length >= 2) viewOffset = Convert.ToInt64(view[1]);
            return new StorageRef(t[2].ToString()!, dtype, size, numel, viewOffset);
        }
    }

    static (ScalarType, int) DTypeOf(string storage) => storage switch
    {
        "FloatStorage" => (ScalarType.Float32, 4),
        "DoubleStorage" => (ScalarType.Float64, 8),
        "HalfStorage" => (ScalarType.Float16, 2),
        "BFloat16Storage" => (ScalarType.BFloat16, 2),
        "LongStorage" => (ScalarType.Int64, 8),
        "IntStorage" => (ScalarType.Int32, 4),
        "ShortStorage" => (ScalarType.Int16, 2),
        "CharStorage" => (ScalarType.Int8, 1),
        "ByteStorage" => (ScalarType.Byte, 1),
        "BoolStorage" => (ScalarType.Bool, 1),
        _ => throw new InvalidDataException($"unsupported tensor storage type '{storage}'"),
    };

    sealed class RebuildTensor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            var storage = (StorageRef)args[0];
            long offset = Convert.ToInt64(args[1]);
            long[] shape = ((object[])args[2]).Select(Convert.ToInt64).ToArray();
            long[] stride = ((object[])args[3]).Select(Convert.ToInt64).ToArray();
            return new PendingTensor(storage, offset, shape, stride);
        }
    }

    sealed class RebuildParameter : IObjectConstructor
    {
        public object construct(object[] args) => args[0];
    }

    /// <summary>An OrderedDict that keeps insertion order and every value (tensors and others).</summary>
    public sealed class OrderedDict : Hashtable
    {
        public List<object> Order { get; } = [];
        public override void Add(object key, object? value)
        {
            if (!ContainsKey(key)) Order.Add(key); base.Add(key, value);
        }
        public override object? this[object key]
        {
            get => base[key];
            set { if (!ContainsKey(key)) Order.Add(key); base[key] = value; }
        }
        public void __setstate__(Hashtable state) { foreach (DictionaryEntry e in state) this[e.Key] = e.Value; }
        public override ICollection Keys => Order;
    }

    sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            var d = new OrderedDict();
            // OrderedDict(items) form: a list of (key, value) pairs
            if (args.Length == 1 && args[0] is IEnumerable items and not string)
                foreach (var item in items)
                    if (item is object[] { Length: 2 } kv) d[kv[0]] = kv[1];
            return d;
        }
    }

    static void CollectStorageSizes(object? node, Dictionary<string, int> sizes, HashSet<object> seen)
    {
        switch (node)
        {
            case null: return;
            case PendingTensor p: sizes[p.Storage.Key] = p.Storage.ElementSize; return;
            case string: return;
        }
        if (!seen.Add(node)) return;
        switch (node)
        {
            case IDictionary d: foreach (DictionaryEntry e in d) CollectStorageSizes(e.Value, sizes, seen); break;
            case IEnumerable list: foreach (var item in list) CollectStorageSizes(item, sizes, seen); break;
        }
    }

    /// <summary>Replaces every PendingTensor by a real tensor (a contiguous copy of its view).</summary>
    static object Materialise(object graph, Func<string, byte[]> storage)
    {
        var cache = new Dictionary<PendingTensor, Tensor>(ReferenceEqualityComparer.Instance);
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        object? Walk(object? node)
        {
            switch (node)
            {
                case null: return null;
                case string: return node;
                case PendingTensor p:
                    if (!cache.TryGetValue(p, out var t)) cache[p] = t = Build(p, storage(p.Storage.Key));
                    return t;
            }
            if (!visited.Add(node)) return node;
            switch (node)
            {
                case OrderedDict od:
                    foreach (var k in od.Order.ToList()) od[k] = Walk(od[k]);
                    return od;
                case IDictionary d:
                    foreach (var k in d.Keys.Cast<object>().ToList()) d[k] = Walk(d[k]);
                    return d;
                case object[] arr:
                    for (int i = 0; i < arr.Length; i++) arr[i] = Walk(arr[i])!;
                    return arr;
                case IList list:
                    for (int i = 0; i < list.Count; i++) list[i] = Walk(list[i]);
                    return list;
                default: return node;
            }
        }
        return Walk(graph)!;
    }

    static Tensor Build(PendingTensor p, byte[] bytes)
    {
        var s = p.Storage;
        long available = bytes.Length / s.ElementSize;
        using var flat = torch.empty(available, s.DType);
        flat.bytes = bytes;
        long extent = 1 + p.Shape.Zip(p.Stride, (n, st) => (n - 1) * st).Where(v => v > 0).Sum();
        long start = s.ViewOffset + p.Offset;
        if (p.Shape.Any(n => n == 0)) return torch.empty(p.Shape, s.DType);
        if (start + extent > available) throw new InvalidDataException($"tensor view exceeds its storage '{s.Key}'");
        using var view = flat.as_strided(p.Shape, p.Stride, start);
        return view.contiguous().clone();
    }
}
