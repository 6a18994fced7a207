using MemoryNet.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Data.Synthesis;

/// <summary>A planar (C, H, W) float RGB image in [0, 1], the working format of the synthesis code.</summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    /// <summary>Planar samples: R plane, then G, then B (row-major).</summary>
    public float[] Data { get; }

    public RgbImage(int width, int height, float[]? data = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "image must not be empty");
        Width = width; Height = height;
        Data = data ?? new float[3L * width * height];
        if (Data.Length != 3L * width * height)
            throw new ArgumentException($"expected 3x{height}x{width} samples, got {Data.Length}");
    }

    public int PlaneSize => Width * Height;
    public Span<float> Plane(int c) => Data.AsSpan(c * PlaneSize, PlaneSize);

    public RgbImage Clone() => new(Width, Height, (float[])Data.Clone());

    /// <summary>Grey is replicated to RGB; alpha is dropped.</summary>
    public static RgbImage FromImageData(ImageData img)
    {
        var r = new RgbImage(img.Width, img.Height);
        int n = r.PlaneSize, c = img.Channels;
        var p = img.Pixels;
        for (int i = 0; i < n; i++)
        {
            if (c == 1) { r.Data[i] = r.Data[n + i] = r.Data[2 * n + i] = p[i]; }
            else
            {
                r.Data[i] = p[(long)i * c]; r.Data[n + i] = p[(long)i * c + 1]; r.Data[2 * n + i] = p[(long)i * c + 2];
            }
        }
        return r;
    }

    public ImageData ToImageData()
    {
        int n = PlaneSize;
        var px = new float[3L * n];
        for (int i = 0; i < n; i++)
        {
            px[3L * i] = Data[i]; px[3L * i + 1] = Data[n + i]; px[3L * i + 2] = Data[2 * n + i];
        }
        return new ImageData(Width, Height, 3, 8, px);
    }

    /// <summary>From a (1, 3, H, W) or (3, H, W) tensor.</summary>
    public static RgbImage FromTensor(Tensor t)
    {
        using var scope = NewDisposeScope();
        var chw = t.dim() == 4 ? t[0] : t;
        if (chw.dim() != 3 || chw.shape[0] != 3)
            throw new ArgumentException($"expected a (1,3,H,W) or (3,H,W) tensor, got ({string.Join(",", t.shape)})");
        var data = chw.detach().to(float32).cpu().contiguous().data<float>().ToArray();
        return new RgbImage((int)chw.shape[2], (int)chw.shape[1], data);
    }

    /// <summary>As a (1, 3, H, W) float32 tensor.</summary>
    public Tensor ToTensor() => tensor(Data, new long[] { 1, 3, Height, Width });

    public RgbImage Crop(int x, int y, int w, int h)
    {
        if (x < 0 || y < 0 || x + w > Width || y + h > Height)
            throw new ArgumentOutOfRangeException(nameof(x), "crop outside the image");
        var r = new RgbImage(w, h);
        for (int c = 0; c < 3; c++)
            for (int yy = 0; yy < h; yy++)
                Array.Copy(Data, c * PlaneSize + (y + yy) * Width + x, r.Data, c * r.PlaneSize + yy * w, w);
        return r;
    }

    /// <summary>Rounds every sample to 8 bits (as the PNG writer will), so that in-memory results equal the
    /// files.</summary>
    public RgbImage Quantize8()
    {
        var r = new RgbImage(Width, Height);
        for (int i = 0; i < Data.Length; i++) r.Data[i] = Q8(Data[i]);
        return r;
    }

    public static float Q8(float v) => MathF.Round(Math.Clamp(v, 0f, 1f) * 255f) / 255f;
}
