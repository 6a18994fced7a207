namespace MemoryNet.Imaging;

/// <summary>
/// Side-by-side strips (input | output [| target]) for looking at results. Panels of the same channel count keep it
/// (grey stays grey, alpha is kept) and the deepest bit depth; mixed panels become RGB. Gaps are white.
/// </summary>
public static class ComparisonStrip
{
    public static ImageData Make(IReadOnlyList<ImageData> panels, int gap = 4)
    {
        if (panels.Count == 0) throw new ArgumentException("no panels");
        int c = panels.All(p => p.Channels == panels[0].Channels) ? panels[0].Channels : 3;
        int h = panels.Max(p => p.Height), w = panels.Sum(p => p.Width) + gap * (panels.Count - 1);
        var px = new float[(long)w * h * c];
        Array.Fill(px, 1f);
        int x0 = 0;
        foreach (var p in panels)
        {
            for (int y = 0; y < p.Height; y++)
            {
                if (p.Channels == c)
                {
                    Array.Copy(p.Pixels, (long)y * p.Width * c, px, ((long)y * w + x0) * c, (long)p.Width * c);
                    continue;
                }
                for (int x = 0; x < p.Width; x++)
                {
                    long src = ((long)y * p.Width + x) * p.Channels, dst = ((long)y * w + x0 + x) * c;
                    for (int k = 0; k < 3; k++) px[dst + k] = p.Pixels[src + (p.Channels == 1 ? 0 : k)];
                }
            }
            x0 += p.Width + gap;
        }
        return new ImageData(w, h, c, panels.Max(p => p.BitDepth), px);
    }
}
