using System.IO.Compression;

namespace MemoryNet.Data.Synthesis;

/// <summary>
/// A small 8-bit PNG encoder with the Paeth filter (photos compress to roughly half the size of unfiltered
/// rows). Samples are rounded exactly as <see cref="RgbImage.Q8"/>; the bytes depend only on the pixels
/// and the runtime's zlib.
/// </summary>
public static class PngWriter
{
    public static byte[] EncodeRgb(RgbImage img, CompressionLevel level = CompressionLevel.Fastest)
    {
        int w = img.Width, h = img.Height, n = img.PlaneSize;
        var raw = new byte[3 * w * h];
        for (int i = 0; i < n; i++)
        {
            raw[3 * i] = Q(img.Data[i]); raw[3 * i + 1] = Q(img.Data[n + i]); raw[3 * i + 2] = Q(img.Data[2 * n + i]);
        }
        return Encode(raw, w, h, 3, level);
    }

    public static byte[] EncodeGrey(float[] plane, int w, int h, CompressionLevel level = CompressionLevel.Fastest)
    {
        var raw = new byte[w * h];
        for (int i = 0; i < raw.Length; i++) raw[i] = Q(plane[i]);
        return Encode(raw, w, h, 1, level);
    }

    static byte Q(float v) => (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);

    public static byte[] Encode(byte[] raw, int w, int h, int channels, CompressionLevel level)
    {
        int stride = w * channels;
        var filtered = new byte[(stride + 1) * h];
        for (int y = 0; y < h; y++)
        {
            int o = y * (stride + 1);
            filtered[o] = 4; // Paeth
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? raw[y * stride + i - channels] : 0;
                int b = y > 0 ? raw[(y - 1) * stride + i] : 0;
                int c = i >= channels && y > 0 ? raw[(y - 1) * stride + i - channels] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                int pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                filtered[o + 1 + i] = (byte)(raw[y * stride + i] - pred);
            }
        }
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BE(ihdr, 0, (uint)w); BE(ihdr, 4, (uint)h);
        ihdr[8] = 8; ihdr[9] = channels == 1 ? (byte)0 : (byte)2;
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zs = new ZLibStream(z, level, leaveOpen: true)) zs.Write(filtered);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    static void BE(byte[] b, int o, uint v) { b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v; }

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
