using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MemoryNet.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Weights;

/// <summary>
/// The safetensors format (8-byte little-endian header length, JSON header, raw little-endian data) with its
/// <c>__metadata__</c> string map. Written atomically; tensors keep their order.
/// </summary>
public static class Safetensors
{
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            using var c = t.detach().cpu().contiguous();
            var bytes = c.bytes.ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(c.dtype),
                ["shape"] = new JsonArray(c.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            s.Write(len);
            s.Write(json);
            for (int i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
            foreach (var b in blobs) s.Write(b);
        });
    }

    public static (List<KeyValuePair<string, Tensor>> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        using var fs = File.OpenRead(path);
        var lenBytes = new byte[8];
        if (fs.Read(lenBytes, 0, 8) < 8) throw new InvalidDataException("file is too short for safetensors");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen == 0 || headerLen > 100_000_000 || (long)headerLen > fs.Length - 8)
            throw new InvalidDataException("not a safetensors file (bad header length)");
        var headerBytes = new byte[headerLen];
        fs.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)!.AsObject(); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"safetensors header is not valid JSON ({e.Message})");
        }
        long dataStart = 8 + (long)headerLen;
        var metadata = new Dictionary<string, string>();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v!.GetValue<string>();
                continue;
            }
            var info = node!.AsObject();
            var dtype = DTypeOf(info["dtype"]!.GetValue<string>());
            var shape = info["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offs = info["data_offsets"]!.AsArray();
            long begin = offs[0]!.GetValue<long>(), end = offs[1]!.GetValue<long>();
            if (begin < 0 || end < begin || dataStart + end > fs.Length)
                throw new InvalidDataException($"tensor '{name}' lies outside the file");
            var bytes = new byte[end - begin];
            fs.Position = dataStart + begin;
            fs.ReadExactly(bytes);
            var t = empty(shape, dtype);
            if (t.NumberOfElements * t.ElementSize != bytes.Length)
                throw new InvalidDataException(
                    $"tensor '{name}': {bytes.Length} bytes for shape ({string.Join(",", shape)})");
            if (bytes.Length > 0) t.bytes = bytes;
            tensors.Add(new(name, t));
        }
        return (tensors, metadata);
    }

    static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "F32", ScalarType.Float64 => "F64", ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64", ScalarType.Int32 => "I32", ScalarType.Int16 => "I16", ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8", ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"dtype {t} cannot be written to safetensors"),
    };

    static ScalarType DTypeOf(string name) => name switch
    {
        "F32" => ScalarType.Float32, "F64" => ScalarType.Float64, "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64, "I32" => ScalarType.Int32, "I16" => ScalarType.Int16, "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte, "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"unsupported safetensors dtype '{name}'"),
    };
}
