namespace MemoryNet.Cli.Serve;

/// <summary>Recognises image formats this project does not read, so that they get 415 rather than "not an
/// image".</summary>
public static class FormatSniffer
{
    /// <summary>The name of an unsupported image format the bytes start with, or null.</summary>
    public static string? UnsupportedImage(ReadOnlySpan<byte> b)
    {
        if (StartsWith(b, "GIF87a"u8) || StartsWith(b, "GIF89a"u8)) return "GIF";
        if (StartsWith(b, "II*\0"u8) || StartsWith(b, "MM\0*"u8) || StartsWith(b, "II+\0"u8)
            || StartsWith(b, "MM\0+"u8)) return "TIFF";
        if (b.Length >= 12 && b.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            var brand = b.Slice(8, 4);
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8)) return "AVIF";
            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("mif1"u8)
                || brand.SequenceEqual("msf1"u8) || brand.SequenceEqual("hevc"u8)) return "HEIF";
        }
        if (StartsWith(b, [0x00, 0x00, 0x01, 0x00])) return "ICO";
        if (StartsWith(b, [0x00, 0x00, 0x02, 0x00])) return "CUR";
        if (StartsWith(b, "8BPS"u8)) return "PSD";
        if (StartsWith(b, [0xFF, 0x0A]) || StartsWith(b, [0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]))
            return "JPEG XL";
        if (StartsWith(b, [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || StartsWith(b, [0xFF, 0x4F, 0xFF, 0x51]))
            return "JPEG 2000";
        if (StartsWith(b, "qoif"u8)) return "QOI";
        if (b.Length >= 2 && b[0] == (byte)'P' && b[1] is >= (byte)'1' and <= (byte)'7' && b.Length > 2
            && b[2] is (byte)'\n' or (byte)' ' or (byte)'\r' or (byte)'\t') return "PNM";
        if (StartsWith(b, [0x76, 0x2F, 0x31, 0x01])) return "OpenEXR";
        return null;
    }

    /// <summary>Whether the bytes start like PNG, JPEG, BMP or WebP (the formats the codec reads).</summary>
    public static bool LooksSupported(ReadOnlySpan<byte> b) =>
        StartsWith(b, [0x89, (byte)'P', (byte)'N', (byte)'G']) || StartsWith(b, [0xFF, 0xD8, 0xFF])
            || StartsWith(b, "BM"u8)
        || (StartsWith(b, "RIFF"u8) && b.Length >= 12 && b.Slice(8, 4).SequenceEqual("WEBP"u8));

    static bool StartsWith(ReadOnlySpan<byte> b, ReadOnlySpan<byte> prefix) =>
        b.Length >= prefix.Length && b[..prefix.Length].SequenceEqual(prefix);
}
