using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Weights;

/// <summary>
/// Writes a state_dict as <c>torch.save</c> does (the zip format of PyTorch ≥ 1.6): <c>archive/data.pkl</c> holds a
/// protocol-2 pickle of an OrderedDict of tensors rebuilt by <c>torch._utils._rebuild_tensor_v2</c> from persistent
/// storages <c>archive/data/N</c> (raw little-endian float32), plus <c>archive/version</c> and
/// <c>archive/byteorder</c>. Entries are stored uncompressed and their data aligned to 64 bytes, as PyTorch's own
/// writer lays them out, so that <c>torch.load</c> (also with <c>weights_only=True</c> and <c>mmap=True</c>) reads it.
/// A tensor listed under several names (MPRNet's shared PReLU) is one storage, as PyTorch saves a shared parameter.
/// </summary>
public static class PthWriter
{
    /// <param name="wrapKey">When set, the state_dict is saved inside a dict under this key (the official training
    /// scripts save and load <c>{'state_dict': ...}</c>); null saves the plain state_dict.</param>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> entries, string? wrapKey = null)
    {
        var storages = new List<float[]>();
        var storageOf = new Dictionary<IntPtr, int>();
        var pkl = new PickleBuilder();
        pkl.Proto();
        if (wrapKey is not null) { pkl.EmptyDict(); pkl.Unicode(wrapKey); }
        pkl.Global("collections", "OrderedDict"); pkl.EmptyTuple(); pkl.Reduce();
        pkl.Mark();
        foreach (var (name, t) in entries)
        {
            if (t.dtype != ScalarType.Float32)
                throw new ArgumentException($"{name}: only float32 tensors are written (got {t.dtype})");
            var handle = t.Handle;
            if (!storageOf.TryGetValue(handle, out int key))
            {
                using var c = t.detach().cpu().contiguous();
                storages.Add(c.data<float>().ToArray());
                storageOf[handle] = key = storages.Count - 1;
            }
            long[] shape = t.shape;
            var stride = new long[shape.Length];
            for (int i = shape.Length - 1, s = 1; i >= 0; i--) { stride[i] = s; s *= (int)shape[i]; }
            pkl.Unicode(name);
            pkl.Global("torch._utils", "_rebuild_tensor_v2");
            pkl.Mark();
            // persistent id: ('storage', torch.FloatStorage, key, location, numel)
            pkl.Mark(); pkl.Unicode("storage"); pkl.Global("torch", "FloatStorage"); pkl.Unicode(key.ToString());
            pkl.Unicode("cpu"); pkl.Int(storages[key].Length); pkl.Tuple(); pkl.BinPersId();
            pkl.Int(0);                       // storage offset
            pkl.IntTuple(shape); pkl.IntTuple(stride);
            pkl.False();                      // requires_grad
            pkl.Global("collections", "OrderedDict"); pkl.EmptyTuple(); pkl.Reduce();   // backward hooks
            pkl.Tuple(); pkl.Reduce();
        }
        pkl.SetItems();
        if (wrapKey is not null) pkl.SetItem();
        pkl.Stop();

        var zip = new StoredZip();
        zip.Add("archive/data.pkl", pkl.ToArray());
        zip.Add("archive/byteorder", Encoding.ASCII.GetBytes("little"));
        for (int i = 0; i < storages.Count; i++)
        {
            var bytes = new byte[storages[i].Length * 4];
            Buffer.BlockCopy(storages[i], 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("big-endian hosts are not supported");
            zip.Add($"archive/data/{i}", bytes);
        }
        zip.Add("archive/version", Encoding.ASCII.GetBytes("3\n"));
        Imaging.AtomicFile.WriteAllBytes(path, zip.Finish());
    }

    /// <summary>The pickle opcodes a state_dict needs (protocol 2).</summary>
    sealed class PickleBuilder
    {
        readonly MemoryStream s = new();
        void Op(byte b) => s.WriteByte(b);
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BitConverter.TryWriteBytes(b, v); s.Write(b); }
        public void Proto() { Op(0x80); Op(2); }
        public void Global(string module, string name)
        {
            Op((byte)'c'); var b = Encoding.ASCII.GetBytes($"{module}\n{name}\n"); s.Write(b);
        }
        public void EmptyTuple() => Op((byte)')');
        public void EmptyDict() => Op((byte)'}');
        public void Reduce() => Op((byte)'R');
        public void Mark() => Op((byte)'(');
        public void Tuple() => Op((byte)'t');
        public void SetItems() => Op((byte)'u');
        public void SetItem() => Op((byte)'s');
        public void BinPersId() => Op((byte)'Q');
        public void False() => Op(0x89);
        public void Stop() => Op((byte)'.');
        public void Unicode(string v)
        {
            Op((byte)'X'); var b = Encoding.UTF8.GetBytes(v); U32((uint)b.Length); s.Write(b);
        }
        public void Int(long v)
        {
            if (v is < int.MinValue or > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(v), "tensor too large for this writer");
            Op((byte)'J'); U32(unchecked((uint)(int)v));
        }
        public void IntTuple(long[] v)
        {
            if (v.Length == 0) { EmptyTuple(); return; }
            Mark(); foreach (var x in v) Int(x); Tuple();
        }
        public byte[] ToArray() => s.ToArray();
    }

    /// <summary>A zip archive of stored (uncompressed) entries whose data start on 64-byte boundaries.</summary>
    sealed class StoredZip
    {
        readonly MemoryStream body = new();
        readonly List<(string Name, uint Crc, uint Size, uint Offset)> entries = [];

        public void Add(string name, byte[] data)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            uint offset = (uint)body.Length;
            long dataStart = offset + 30 + nameBytes.Length + 4;   // + a 4-byte extra-field header
            int pad = (int)((64 - dataStart % 64) % 64);
            uint crc = Crc32(data);
            var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true);
            // signature, version, flags, stored
            w.Write(0x04034b50u); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)0);
            w.Write((ushort)0); w.Write((ushort)0x21);                                        // time, date (1980-01-01)
            w.Write(crc); w.Write((uint)data.Length); w.Write((uint)data.Length);
            w.Write((ushort)nameBytes.Length); w.Write((ushort)(4 + pad));
            w.Write(nameBytes);
            // "FB" padding, as PyTorch
            w.Write((ushort)0x4246); w.Write((ushort)pad); w.Write(new byte[pad]);
            w.Write(data);
            w.Flush();
            entries.Add((name, crc, (uint)data.Length, offset));
        }

        public byte[] Finish()
        {
            uint cdStart = (uint)body.Length;
            var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true);
            foreach (var (name, crc, size, offset) in entries)
            {
                var nameBytes = Encoding.UTF8.GetBytes(name);
                w.Write(0x02014b50u); w.Write((ushort)20); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)0);
                w.Write((ushort)0); w.Write((ushort)0x21);
                w.Write(crc); w.Write(size); w.Write(size);
                // name, extra, comment lengths
                w.Write((ushort)nameBytes.Length); w.Write((ushort)0); w.Write((ushort)0);
                // disk, internal, external attributes
                w.Write((ushort)0); w.Write((ushort)0); w.Write(0u);
                w.Write(offset);
                w.Write(nameBytes);
            }
            uint cdSize = (uint)body.Length - cdStart;
            w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0);
            w.Write((ushort)entries.Count); w.Write((ushort)entries.Count);
            w.Write(cdSize); w.Write(cdStart); w.Write((ushort)0);
            w.Flush();
            if (body.Length > uint.MaxValue)
                throw new InvalidOperationException("checkpoint over 4 GB: zip64 is not written");
            return body.ToArray();
        }

        static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            uint c = (uint)n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        static uint Crc32(byte[] data)
        {
            uint c = 0xFFFFFFFFu;
            foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
            return c ^ 0xFFFFFFFFu;
        }
    }
}
