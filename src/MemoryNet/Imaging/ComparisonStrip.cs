namespace MemoryNet.Imaging;

/// <summary>Side-by-side strips (e.g. input | output | target) for looking at results; panels are RGB, gaps white.</summary>
public static class ComparisonStrip
{
    public static ImageData Make(IReadOnlyList<ImageData> panels, int gap = 4)
    {
        if (panels.Count == 0) throw new ArgumentException("no panels");
        int h = panels.Max(p => p.Height), w = panels.Sum(p => p.Width) + gap * (panels.Count - 1);
        var px = new float[(long)w * h * 3];
        Array.Fill(px, 1f);
        int x0 = 0;
        foreach (var p in panels)
        {
            for (int y = 0; y < p.Height; y++)
                for (int x = 0; x < p.Width; x++)
                {
                    long src = ((long)y * p.Width + x) * p.Channels, dst = ((long)y * w + x0 + x) * 3;
                    for (int k = 0; k < 3; k++) px[dst + k] = p.Pixels[src + (p.Channels == 1 ? 0 : k)];
                }
            x0 += p.Width + gap;
        }
        return new ImageData(w, h, 3, 8, px);
    }
}
