namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Rain streaks, the photo-editing recipe behind Rain100L/H and Rain1400 (Yang et al. CVPR'17, Fu et al. CVPR'17):
/// noise → Gaussian blur σ 0.5 → levels keeping 0.5–3 % bright specks → normalised line motion blur at θ →
/// levels (73, 158)/255 → screen blend O = 1 − (1 − B)(1 − a·S).
/// </summary>
public static class RainSynth
{
    /// <summary>Streak lengths are drawn for ~500 px images and scaled by max(H, W)/500.</summary>
    public const double ReferenceSize = 500;

    /// <summary>One streak layer S ∈ [0, 1] (H×W).</summary>
    public static float[] StreakLayer(int w, int h, SynthRng rng, double density, double length, double angleDeg)
    {
        int n = w * h;
        var noise = new float[n];
        for (int i = 0; i < n; i++) noise[i] = rng.NextFloat();
        var nb = ImageOps.GaussianBlur(noise, w, h, 0.5);
        // levels 1: black point t keeps `density` of the pixels; white point keeps the top quarter of those at 1
        float t = ImageOps.Quantile(nb, 1 - density);
        float tw = ImageOps.Quantile(nb, 1 - density / 4);
        if (tw <= t) tw = t + 1e-4f;
        var s = new float[n];
        for (int i = 0; i < n; i++) s[i] = Math.Clamp((nb[i] - t) / (tw - t), 0f, 1f);
        // motion blur along the rain direction with a normalised line kernel
        var streak = ImageOps.ConvolveSparse(s, w, h, LineKernel(length, angleDeg));
        // A normalised line kernel divides a streak's brightness by ~L; bring the brightest 0.1 % to 1 so that
        // the second levels (73, 158) acts as in the editing recipe whatever L and the density are.
        float q = ImageOps.Quantile(streak, 0.999);
        float gain = q > 1e-6f ? 1f / q : 1f;
        const float lo = 73f / 255f, hi = 158f / 255f;
        for (int i = 0; i < n; i++) streak[i] = Math.Clamp((streak[i] * gain - lo) / (hi - lo), 0f, 1f);
        return streak;
    }

    /// <summary>A line of the given length at angleDeg from vertical (positive: top leans right), normalised to sum 1.</summary>
    public static List<ImageOps.Tap> LineKernel(double length, double angleDeg)
    {
        double th = angleDeg * Math.PI / 180;
        double sx = DMath.Sin(th), sy = DMath.Cos(th);
        int g = (int)Math.Ceiling(length) + 4;
        int c = g / 2;
        var grid = new double[g * g];
        int steps = Math.Max(2, (int)Math.Ceiling(length * 4));
        for (int i = 0; i <= steps; i++)
        {
            double u = -length / 2 + length * i / steps;
            ImageOps.Splat(grid, g, g, c + u * sx, c - u * sy, 1.0);
        }
        return ToTaps(grid, g, g, c, c);
    }

    internal static List<ImageOps.Tap> ToTaps(double[] grid, int gw, int gh, int cx, int cy)
    {
        double sum = 0;
        foreach (var v in grid) sum += v;
        var taps = new List<ImageOps.Tap>();
        for (int y = 0; y < gh; y++)
            for (int x = 0; x < gw; x++)
                if (grid[y * gw + x] > 0) taps.Add(new(x - cx, y - cy, (float)(grid[y * gw + x] / sum)));
        return taps;
    }

    static void Screen(RgbImage o, float[] s, double a)
    {
        int n = o.PlaneSize;
        float af = (float)a;
        for (int c = 0; c < 3; c++)
        {
            var p = o.Plane(c);
            for (int i = 0; i < n; i++) p[i] = 1f - (1f - p[i]) * (1f - af * s[i]);
        }
    }

    /// <summary>Rain100L-like: one streak layer. Only brightens.</summary>
    public static DegradedPair Rain(RgbImage clean, SynthRng rng)
    {
        int w = clean.Width, h = clean.Height;
        double scale = Math.Max(w, h) / ReferenceSize;
        double density = rng.Uniform(0.005, 0.03);
        double length = Math.Max(4, rng.Uniform(15, 50) * scale);
        double angle = rng.Uniform(-30, 30);
        double a = rng.Uniform(0.7, 1.0);
        var s = StreakLayer(w, h, rng, density, length, angle);
        var o = clean.Clone();
        Screen(o, s, a);
        var p = new SynthParams().Set("kind", "rain").Set("density", density).Set("length_px", length)
            .Set("angle_deg", angle).Set("opacity", a);
        return new DegradedPair(o, clean, null, s, p);
    }

    /// <summary>Rain100H-like: 2–5 streak layers of different angle and length, then a veil O ← αO + (1 − α)A.</summary>
    public static DegradedPair HeavyRain(RgbImage clean, SynthRng rng)
    {
        int w = clean.Width, h = clean.Height;
        double scale = Math.Max(w, h) / ReferenceSize;
        int layers = rng.Int(2, 6);
        double baseAngle = rng.Uniform(-30, 30);
        var o = clean.Clone();
        var list = new List<SynthParams>();
        for (int l = 0; l < layers; l++)
        {
            double density = rng.Uniform(0.005, 0.03);
            double length = Math.Max(4, rng.Uniform(15, 50) * scale);
            double angle = Math.Clamp(baseAngle + rng.Uniform(-15, 15), -45, 45);
            double a = rng.Uniform(0.7, 1.0);
            var s = StreakLayer(w, h, rng, density, length, angle);
            Screen(o, s, a);
            list.Add(new SynthParams().Set("density", density).Set("length_px", length).Set("angle_deg", angle).Set("opacity", a));
        }
        double alpha = rng.Uniform(0.7, 0.95), airlight = rng.Uniform(0.8, 1.0);
        float af = (float)alpha, bf = (float)((1 - alpha) * airlight);
        for (int i = 0; i < o.Data.Length; i++) o.Data[i] = af * o.Data[i] + bf;
        var p = new SynthParams().Set("kind", "heavy-rain").Set("layers", list).Set("veil_alpha", alpha).Set("airlight", airlight);
        return new DegradedPair(o, clean, null, null, p);
    }
}
