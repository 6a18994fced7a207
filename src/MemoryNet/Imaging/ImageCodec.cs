using SkiaSharp;

namespace MemoryNet.Imaging;

/// <summary>A file that cannot be used as an image; the message names the file and the reason.</summary>
/// <summary>What is wrong with an image file, for callers that answer differently (a server: 400, 415, 413).</summary>
public enum ImageProblem { Unreadable, Unsupported, TooManyPixels }

/// <summary>An image that cannot be read: the message names the file and the problem.</summary>
public sealed class ImageFormatException(string message, ImageProblem problem = ImageProblem.Unreadable) : Exception(
    message)
{
    public ImageProblem Problem { get; } = problem;

    /// <summary>The refusal of an image over a pixel limit (checked from its header).</summary>
    public static ImageFormatException TooManyPixels(string name, long width, long height, long maxPixels) =>
        new($"{name}: {width}x{height} = {width * height / 1e6:0.#} megapixels exceeds the limit " +
            $"of {maxPixels / 1e6:0.#} MP", ImageProblem.TooManyPixels);
}

/// <summary>Reads PNG, JPEG, BMP and WebP (8/16-bit, grey, RGB, RGBA, EXIF orientation); writes PNG (8/16-bit), JPEG,
/// WebP, BMP.</summary>
public static class ImageCodec
{
    /// <summary>Default refusal threshold: 200 megapixels (a 24 MP photo is far below, a decompression bomb far
    /// above).</summary>
    public const long DefaultMaxPixels = 200_000_000;

    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    public static bool IsImagePath(string path) =>
        Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Width and height from the header, without decoding the pixels.</summary>
    public static (int Width, int Height) Probe(string path)
    {
        using var codec = OpenCodec(path, File.ReadAllBytes(path), out _);
        var (w, h) = OrientedSize(codec);
        return (w, h);
    }

    /// <summary>
    /// Checks an encoded image from its header alone (no pixels decoded): its size, and that it is within
    /// <paramref name="maxPixels"/>. Throws <see cref="ImageFormatException"/> as <see cref="Decode"/> would.
    /// </summary>
    public static (int Width, int Height) CheckHeader(byte[] bytes, string name, long maxPixels = DefaultMaxPixels)
    {
        using var codec = OpenCodec(name, bytes, out _);
        CheckSize(codec.Info, name, maxPixels);
        return OrientedSize(codec);
    }

    /// <summary>A header with pixels, and no more of them than <paramref name="maxPixels"/>.</summary>
    static void CheckSize(SKImageInfo info, string name, long maxPixels)
    {
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageFormatException($"{name}: image header has no pixels ({info.Width}x{info.Height})");
        long pixels = (long)info.Width * info.Height;
        if (pixels > maxPixels)
            throw ImageFormatException.TooManyPixels(name, info.Width, info.Height, maxPixels);
    }

    public static ImageData Read(string path, long maxPixels = DefaultMaxPixels)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new ImageFormatException($"{path}: cannot read ({e.Message})"); }
        return Decode(bytes, path, maxPixels);
    }

    public static ImageData Decode(byte[] bytes, string name, long maxPixels = DefaultMaxPixels)
    {
        // Skia decodes 16-bit PNGs only to 8 bits here (Rgba16161616 gives InvalidConversion)
        if (Png16Bit(bytes)) return Png16.Decode(bytes, name, maxPixels);
        using var codec = OpenCodec(name, bytes, out _);
        var info = codec.Info;
        CheckSize(info, name, maxPixels);

        bool grey = info.ColorType is SKColorType.Gray8 or SKColorType.Alpha16 || PngColorType(bytes) is 0 or 4;
        bool sixteen = info.ColorType is SKColorType.Rgba16161616 or SKColorType.Alpha16
            or SKColorType.Rg1616 or SKColorType.RgbaF16 || Png16Bit(bytes);
        bool alpha = info.AlphaType != SKAlphaType.Opaque;

        int w = info.Width, h = info.Height;
        var target = new SKImageInfo(w, h, sixteen ? SKColorType.Rgba16161616 : SKColorType.Rgba8888,
            SKAlphaType.Unpremul);
        int bpp = sixteen ? 8 : 4;
        var raw = new byte[(long)w * h * bpp];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = raw)
                result = codec.GetPixels(target, (IntPtr)p, w * bpp, new SKCodecOptions(SKZeroInitialized.Yes));
        }
        if (result == SKCodecResult.IncompleteInput || result == SKCodecResult.ErrorInInput)
            throw new ImageFormatException($"{name}: file is truncated or corrupt ({result})");
        if (result != SKCodecResult.Success)
            throw new ImageFormatException($"{name}: cannot decode ({result})");

        int channels = grey ? (alpha ? 4 : 1) : (alpha ? 4 : 3);
        var px = new float[(long)w * h * channels];
        long n = (long)w * h;
        for (long i = 0; i < n; i++)
        {
            float r, g, b, a;
            if (sixteen)
            {
                long o = i * 8;
                r = BitConverter.ToUInt16(raw, (int)o) / 65535f; g = BitConverter.ToUInt16(raw, (int)o + 2) / 65535f;
                b = BitConverter.ToUInt16(raw, (int)o + 4) / 65535f;
                a = BitConverter.ToUInt16(raw, (int)o + 6) / 65535f;
            }
            else
            {
                long o = i * 4;
                r = raw[o] / 255f; g = raw[o + 1] / 255f; b = raw[o + 2] / 255f; a = raw[o + 3] / 255f;
            }
            switch (channels)
            {
                case 1: px[i] = r; break;
                case 3: px[i * 3] = r; px[i * 3 + 1] = g; px[i * 3 + 2] = b; break;
                default: px[i * 4] = r; px[i * 4 + 1] = g; px[i * 4 + 2] = b; px[i * 4 + 3] = a; break;
            }
        }
        var img = new ImageData(w, h, channels, sixteen ? 16 : 8, px);
        return ApplyOrientation(img, codec.EncodedOrigin);
    }

    static SKCodec OpenCodec(string name, byte[] bytes, out SKEncodedImageFormat format)
    {
        if (bytes.Length == 0) throw new ImageFormatException($"{name}: file is empty");
        var stream = new SKMemoryStream(bytes);
        var codec = SKCodec.Create(stream, out var status);
        if (codec is null)
        {
            stream.Dispose();
            throw new ImageFormatException(status == SKCodecResult.IncompleteInput
                ? $"{name}: file is truncated"
                : $"{name}: not an image in a supported format (PNG, JPEG, BMP, WebP)");
        }
        format = codec.EncodedFormat;
        if (format is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Bmp
            or SKEncodedImageFormat.Webp))
        {
            codec.Dispose();
            throw new ImageFormatException($"{name}: unsupported image format {format} (supported: " +
                "PNG, JPEG, BMP, WebP)", ImageProblem.Unsupported);
        }
        return codec;
    }

    static (int, int) OrientedSize(SKCodec codec)
    {
        var o = codec.EncodedOrigin;
        bool swap = o is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom
            or SKEncodedOrigin.LeftBottom;
        return swap ? (codec.Info.Height, codec.Info.Width) : (codec.Info.Width, codec.Info.Height);
    }

    // PNG IHDR colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA), or -1 for other formats
    static int PngColorType(byte[] b) =>
        b.Length > 25 && b[0] == 0x89 && b[1] == (byte)'P' && b[12] == (byte)'I' && b[13] == (byte)'H' ? b[25] : -1;

    // PNG IHDR bit depth 16 (Skia may report 8-bit colour types for some 16-bit files)
    static bool Png16Bit(byte[] b) =>
        b.Length > 25 && b[0] == 0x89 && b[1] == (byte)'P' && b[12] == (byte)'I' && b[13] == (byte)'H' && b[24] == 16;

    /// <summary>Applies the EXIF orientation so that the pixels are upright.</summary>
    public static ImageData ApplyOrientation(ImageData img, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft) return img;
        int w = img.Width, h = img.Height, c = img.Channels;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom
            or SKEncodedOrigin.LeftBottom;
        int ow = swap ? h : w, oh = swap ? w : h;
        var dst = new float[img.Pixels.Length];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                // (sx, sy): the stored pixel that shows at (x, y) of the upright image
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                Array.Copy(img.Pixels, ((long)sy * w + sx) * c, dst, ((long)y * ow + x) * c, c);
            }
        return new ImageData(ow, oh, c, img.BitDepth, dst);
    }

    /// <summary>Writes by extension (.png, .jpg/.jpeg, .webp, .bmp). The write is atomic: temp file, then
    /// rename.</summary>
    public static void Write(ImageData img, string path, int bits = 8, int quality = 95) =>
        AtomicFile.WriteAllBytes(path, Encode(img, Path.GetExtension(path), quality, bits, path));

    /// <summary>The file bytes for an extension (.png, .jpg/.jpeg, .webp, .bmp).</summary>
    public static byte[] Encode(ImageData img, string extension, int quality = 95, int bits = 8, string? name = null)
    {
        string ext = extension.ToLowerInvariant();
        return ext switch
        {
            ".png" => EncodePng(img, bits),
            ".jpg" or ".jpeg" => EncodeSkia(img, SKEncodedImageFormat.Jpeg, quality),
            ".webp" => EncodeSkia(img, SKEncodedImageFormat.Webp, quality),
            ".bmp" => EncodeBmp(img),
            _ => throw new ImageFormatException(
                $"{name ?? "image"}: cannot write '{ext}' (use .png, .jpg, .webp or .bmp)"),
        };
    }

    public static byte[] EncodePng(ImageData img, int bits = 8)
    {
        if (bits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bits), "PNG depth must be 8 or 16");
        long n = img.Pixels.LongLength;
        var raw = new byte[n * (bits / 8)];
        for (long i = 0; i < n; i++)
        {
            float v = Math.Clamp(img.Pixels[i], 0f, 1f);
            if (bits == 8) raw[i] = (byte)MathF.Round(v * 255f);
            else
            {
                ushort s = (ushort)MathF.Round(v * 65535f);
                raw[2 * i] = (byte)(s >> 8);
                raw[2 * i + 1] = (byte)(s & 0xff);
            }
        }
        return PngEncoder.Encode(raw, img.Width, img.Height, img.Channels, bits);
    }

    static byte[] EncodeSkia(ImageData img, SKEncodedImageFormat format, int quality)
    {
        var info = new SKImageInfo(img.Width, img.Height, SKColorType.Rgba8888,
            img.HasAlpha && format != SKEncodedImageFormat.Jpeg ? SKAlphaType.Unpremul : SKAlphaType.Opaque);
        var bytes = To8BitRgba(img);
        using var bmp = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bmp.GetPixels(), bytes.Length);
        using var data = bmp.Encode(format, quality);
        return data.ToArray();
    }

    static byte[] To8BitRgba(ImageData img)
    {
        long n = img.PixelCount;
        var b = new byte[n * 4];
        for (long i = 0; i < n; i++)
        {
            for (int k = 0; k < 3; k++)
            {
                float v = img.Channels == 1 ? img.Pixels[i] : img.Pixels[i * img.Channels + k];
                b[i * 4 + k] = (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);
            }
            b[i * 4 + 3] = img.HasAlpha ? (byte)MathF.Round(Math.Clamp(img.Pixels[i * 4 + 3], 0f, 1f) * 255f)
                : (byte)255;
        }
        return b;
    }

    static byte[] EncodeBmp(ImageData img)
    {
        int w = img.Width, h = img.Height, rowBytes = (w * 3 + 3) & ~3;
        var rgba = To8BitRgba(img);
        var b = new byte[54 + (long)rowBytes * h];
        b[0] = (byte)'B'; b[1] = (byte)'M';
        BitConverter.TryWriteBytes(b.AsSpan(2), b.Length);
        BitConverter.TryWriteBytes(b.AsSpan(10), 54);
        BitConverter.TryWriteBytes(b.AsSpan(14), 40);
        BitConverter.TryWriteBytes(b.AsSpan(18), w);
        BitConverter.TryWriteBytes(b.AsSpan(22), h);
        BitConverter.TryWriteBytes(b.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(b.AsSpan(28), (short)24);
        for (int y = 0; y < h; y++)
        {
            long row = 54 + (long)(h - 1 - y) * rowBytes; // bottom-up
            for (int x = 0; x < w; x++)
            {
                long s = ((long)y * w + x) * 4;
                b[row + x * 3] = rgba[s + 2]; b[row + x * 3 + 1] = rgba[s + 1]; b[row + x * 3 + 2] = rgba[s];
            }
        }
        return b;
    }
}
