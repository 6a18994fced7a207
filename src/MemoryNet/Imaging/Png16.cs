using System.Buffers.Binary;
using System.IO.Compression;

namespace MemoryNet.Imaging;

/// <summary>
/// Decoder for 16-bit PNGs (grey, grey+alpha, RGB, RGBA; non-interlaced and Adam7), full precision.
/// The bundled Skia reports 16-bit PNGs as 8-bit and refuses to decode them to Rgba16161616
/// (InvalidConversion), so <see cref="ImageCodec"/> hands 16-bit PNGs to this.
/// </summary>
public static class Png16
{
    public static ImageData Decode(byte[] b, string name, long maxPixels = ImageCodec.DefaultMaxPixels)
    {
        int pos = 8;
        int w = 0, h = 0, colorType = -1, interlace = 0;
        using var idat = new MemoryStream();
        while (pos + 8 <= b.Length)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(b, pos + 4, 4);
            if (len < 0 || pos + 12L + len > b.Length)
                throw new ImageFormatException($"{name}: file is truncated or corrupt (PNG chunk {type})");
            var data = b.AsSpan(pos + 8, len);
            if (type == "IHDR")
            {
                w = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
                h = (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                if (data[8] != 16) throw new ImageFormatException($"{name}: not a 16-bit PNG");
                colorType = data[9];
                interlace = data[12];
                // refuse absurd dimensions as soon as the header is read, before collecting or inflating any data
                if ((long)w * h > maxPixels)
                    throw ImageFormatException.TooManyPixels(name, w, h, maxPixels);
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            pos += 12 + len;
        }
        if (w <= 0 || h <= 0) throw new ImageFormatException($"{name}: image header has no pixels ({w}x{h})");
        long pixels = (long)w * h;
        if (pixels > maxPixels)
            throw ImageFormatException.TooManyPixels(name, w, h, maxPixels);
        int samples = colorType switch
        {
            0 => 1, 2 => 3, 4 => 2, 6 => 4,
            _ => throw new ImageFormatException($"{name}: unsupported 16-bit PNG colour type {colorType}",
                ImageProblem.Unsupported),
        };
        byte[] raw;
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            using var outMs = new MemoryStream();
            z.CopyTo(outMs);
            raw = outMs.ToArray();
        }
        catch (InvalidDataException)
        {
            throw new ImageFormatException($"{name}: file is truncated or corrupt (bad PNG data)");
        }

        var s16 = new ushort[pixels * samples];
        int bpp = samples * 2;
        int offset = 0;
        if (interlace == 0)
            offset = Unfilter(raw, offset, w, h, bpp, name, (x, y, px) => Store(s16, px, (long)y * w + x, samples));
        else
        {
            int[] sx = [0, 4, 0, 2, 0, 1, 0], sy = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1],
                dy = [8, 8, 8, 4, 4, 2, 2];
            for (int p = 0; p < 7; p++)
            {
                int pw = (w - sx[p] + dx[p] - 1) / dx[p], ph = (h - sy[p] + dy[p] - 1) / dy[p];
                if (pw <= 0 || ph <= 0) continue;
                int pp = p;
                offset = Unfilter(raw, offset, pw, ph, bpp, name,
                    (x, y, px) => Store(s16, px, (long)(sy[pp] + y * dy[pp]) * w + sx[pp] + x * dx[pp], samples));
            }
        }

        int channels = samples switch { 1 => 1, 3 => 3, _ => 4 };
        var f = new float[pixels * channels];
        for (long i = 0; i < pixels; i++)
        {
            switch (samples)
            {
                case 1: f[i] = s16[i] / 65535f; break;
                case 3: for (int k = 0; k < 3; k++) f[i * 3 + k] = s16[i * 3 + k] / 65535f; break;
                case 2:
                    float g = s16[i * 2] / 65535f;
                    f[i * 4] = g; f[i * 4 + 1] = g; f[i * 4 + 2] = g; f[i * 4 + 3] = s16[i * 2 + 1] / 65535f; break;
                default: for (int k = 0; k < 4; k++) f[i * 4 + k] = s16[i * 4 + k] / 65535f; break;
            }
        }
        return new ImageData(w, h, channels, 16, f);
    }

    static void Store(ushort[] dst, ReadOnlySpan<byte> px, long index, int samples)
    {
        for (int k = 0; k < samples; k++)
            dst[index * samples + k] = BinaryPrimitives.ReadUInt16BigEndian(px[(2 * k)..]);
    }

    delegate void PixelSink(int x, int y, ReadOnlySpan<byte> px);

    static int Unfilter(byte[] raw, int offset, int w, int h, int bpp, string name, PixelSink sink)
    {
        int stride = w * bpp;
        var prev = new byte[stride];
        var cur = new byte[stride];
        for (int y = 0; y < h; y++)
        {
            if (offset + 1 + stride > raw.Length)
                throw new ImageFormatException($"{name}: file is truncated or corrupt (PNG rows missing)");
            int filter = raw[offset];
            Array.Copy(raw, offset + 1, cur, 0, stride);
            offset += 1 + stride;
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0, up = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                cur[i] = filter switch
                {
                    0 => cur[i],
                    1 => (byte)(cur[i] + a),
                    2 => (byte)(cur[i] + up),
                    3 => (byte)(cur[i] + ((a + up) >> 1)),
                    4 => (byte)(cur[i] + Paeth(a, up, c)),
                    _ => throw new ImageFormatException($"{name}: corrupt PNG (filter {filter})"),
                };
            }
            for (int x = 0; x < w; x++) sink(x, y, cur.AsSpan(x * bpp, bpp));
            (prev, cur) = (cur, prev);
        }
        return offset;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
