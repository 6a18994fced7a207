using System.IO.Compression;

namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Planar <see cref="RgbImage"/>s and masks to 8-bit PNG through <see cref="Imaging.PngEncoder"/>. Samples are
/// rounded exactly as <see cref="RgbImage.Q8"/>.
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

    static byte[] Encode(byte[] raw, int w, int h, int channels, CompressionLevel level) =>
        Imaging.PngEncoder.Encode(raw, w, h, channels, 8, level);
}
