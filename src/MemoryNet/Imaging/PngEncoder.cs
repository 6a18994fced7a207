using System.IO.Compression;

namespace MemoryNet.Imaging;

/// <summary>
/// The project's one PNG encoder: 8- or 16-bit (big-endian samples), grey/grey+alpha/RGB/RGBA, Paeth-filtered rows
/// (photos compress to about half of unfiltered rows). The bytes depend only on the samples and the runtime's zlib.
/// </summary>
public static class PngEncoder
{
    /// <summary>Encodes interleaved samples <paramref name="raw"/> (row-major; 2 bytes per sample, big-endian, at depth
    /// 16).</summary>
    public static byte[] Encode(byte[] raw, int w, int h, int channels, int bitDepth = 8,
        CompressionLevel level = CompressionLevel.Fastest)
    {
        if (bitDepth is not (8 or 16))
            throw new ArgumentOutOfRangeException(nameof(bitDepth), "PNG depth must be 8 or 16");
        int bpp = channels * bitDepth / 8, stride = w * bpp;
        if (raw.LongLength != (long)stride * h)
            throw new ArgumentException($"expected {(long)stride * h} bytes, got {raw.LongLength}");
        var filtered = new byte[(long)(stride + 1) * h];
        for (int y = 0; y < h; y++)
        {
            long o = (long)y * (stride + 1), row = (long)y * stride, prev = row - stride;
            filtered[o] = 4; // Paeth
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? raw[row + i - bpp] : 0;
                int b = y > 0 ? raw[prev + i] : 0;
                int c = i >= bpp && y > 0 ? raw[prev + i - bpp] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                int pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                filtered[o + 1 + i] = (byte)(raw[row + i] - pred);
            }
        }
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BE(ihdr, 0, (uint)w); BE(ihdr, 4, (uint)h);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = channels switch
        {
            1 => 0, 2 => 4, 3 => 2, 4 => 6, _ => throw new ArgumentOutOfRangeException(nameof(channels))
        };
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zs = new ZLibStream(z, level, leaveOpen: true)) zs.Write(filtered);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    static void BE(byte[] b, int o, uint v)
    {
        b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v;
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4]; BE(len, 0, (uint)data.Length); s.Write(len);
        var t = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(t); s.Write(data);
        uint crc = Crc(Crc(0xffffffffu, t), data) ^ 0xffffffffu;
        var cb = new byte[4]; BE(cb, 0, crc); s.Write(cb);
    }

    static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    static uint Crc(uint crc, byte[] d) { foreach (var x in d) crc = Table[(crc ^ x) & 0xff] ^ (crc >> 8); return crc; }
}
