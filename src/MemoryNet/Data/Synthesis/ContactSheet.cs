using System.IO.Compression;

namespace MemoryNet.Data.Synthesis;

/// <summary>A grid of input | target (| mask) tiles, two pairs per row, written as a compact PNG.</summary>
public static class ContactSheet
{
    public static RgbImage Build(IReadOnlyList<DegradedPair> pairs, int tile = 128, int pairsPerRow = 2, int gap = 4)
    {
        if (pairs.Count == 0) throw new ArgumentException("no pairs for the contact sheet");
        bool masks = pairs.Any(p => p.Mask is not null);
        int cols = masks ? 3 : 2;
        int perRow = Math.Min(pairsPerRow, pairs.Count);
        int rows = (pairs.Count + perRow - 1) / perRow;
        int cellW = cols * tile + (cols - 1) * gap;
        int w = perRow * cellW + (perRow + 1) * 3 * gap, h = rows * tile + (rows + 1) * 3 * gap;
        var sheet = new RgbImage(w, h);
        Array.Fill(sheet.Data, 1f);
        for (int k = 0; k < pairs.Count; k++)
        {
            var pr = pairs[k];
            int ox = 3 * gap + (k % perRow) * (cellW + 3 * gap), oy = 3 * gap + (k / perRow) * (tile + 3 * gap);
            var tiles = new List<RgbImage> { pr.Input, pr.Target };
            if (masks)
            {
                var m = new RgbImage(pr.Input.Width, pr.Input.Height);
                if (pr.Mask is not null) for (int c = 0; c < 3; c++) pr.Mask.CopyTo(m.Plane(c));
                tiles.Add(m);
            }
            for (int t = 0; t < tiles.Count; t++) Paste(sheet, Fit(tiles[t], tile), ox + t * (tile + gap), oy);
        }
        return sheet;
    }

    static RgbImage Fit(RgbImage img, int tile)
    {
        double s = Math.Min(1.0, tile / (double)Math.Max(img.Width, img.Height));
        if (s >= 1) return img;
        return ImageOps.ResizeArea(img, Math.Max(1, (int)Math.Round(img.Width * s)),
            Math.Max(1, (int)Math.Round(img.Height * s)));
    }

    static void Paste(RgbImage dst, RgbImage src, int ox, int oy)
    {
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < src.Height && oy + y < dst.Height; y++)
                for (int x = 0; x < src.Width && ox + x < dst.Width; x++)
                    dst.Data[c * dst.PlaneSize + (oy + y) * dst.Width + ox + x] =
                        src.Data[c * src.PlaneSize + y * src.Width + x];
    }

    /// <summary>Writes the sheet: .png with maximal compression; .jpg/.webp/.bmp through the image codec.</summary>
    public static void Write(RgbImage sheet, string path)
    {
        if (Path.GetExtension(path).Equals(".png", StringComparison.OrdinalIgnoreCase))
            Imaging.AtomicFile.WriteAllBytes(path, PngWriter.EncodeRgb(sheet, CompressionLevel.SmallestSize));
        else
            Imaging.ImageCodec.Write(sheet.ToImageData(), path, 8, quality: 88);
    }
}
