namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Rain streaks from the photo-editing recipe behind Rain100L/H and Rain1400 (Yang et al. CVPR'17, Fu et al. CVPR'17):
/// noise → Gaussian blur (speck size) → levels keeping sparse bright specks → normalised line motion blur at θ
/// → levels (73, 158)/255 in the recipe → screen blend O = 1 − (1 − B)(1 − a·S).
/// <see cref="Rain(RgbImage, SynthRng)"/> draws every one of these per layer from wide ranges; <see cref="HeavyRain"/>
/// is the recipe's heavy variant.
/// </summary>
public static class RainSynth
{
    /// <summary>Streak lengths are drawn for ~500 px images and scaled by max(H, W)/500.</summary>
    public const double ReferenceSize = 500;

    /// <summary>The share of specks the first levels of the editing recipe saturate.</summary>
    public const double RecipeWhiteShare = 0.25;

    /// <summary>One streak layer S ∈ [0, 1] (H×W).</summary>
    public static float[] StreakLayer(int w, int h, SynthRng rng, double density, double length, double angleDeg,
        double speckSigma = 0.5, double lo = 73 / 255.0, double hi = 158 / 255.0, double whiteShare = RecipeWhiteShare)
    {
        int n = w * h;
        var noise = new float[n];
        for (int i = 0; i < n; i++) noise[i] = rng.NextFloat();
        var nb = ImageOps.GaussianBlur(noise, w, h, speckSigma);
        // levels 1: black point t keeps `density` of the pixels; the white point keeps the top `whiteShare` of those
        // at 1 (a quarter: most specks saturate and streaks are alike; a few percent: streaks of many brightnesses)
        float t = ImageOps.Quantile(nb, 1 - density);
        float tw = ImageOps.Quantile(nb, 1 - density * whiteShare);
        if (tw <= t) tw = t + 1e-4f;
        var s = new float[n];
        for (int i = 0; i < n; i++) s[i] = Math.Clamp((nb[i] - t) / (tw - t), 0f, 1f);
        // motion blur along the rain direction with a normalised line kernel
        var streak = ImageOps.ConvolveSparse(s, w, h, LineKernel(length, angleDeg));
        // A normalised line kernel divides a streak's brightness by ~L; bring the brightest 0.1 % to 1 so that
        // the second levels (lo, hi; the editing recipe's 73, 158) acts alike whatever L and the density are.
        float q = ImageOps.Quantile(streak, 0.999);
        float gain = q > 1e-6f ? 1f / q : 1f;
        float l0 = (float)lo, h0 = (float)hi;
        for (int i = 0; i < n; i++) streak[i] = Math.Clamp((streak[i] * gain - l0) / (h0 - l0), 0f, 1f);
        return streak;
    }

    /// <summary>A line of the given length at angleDeg from vertical (positive: top leans right), normalised to sum
    /// 1.</summary>
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

    /// <summary>The ranges one style of <see cref="Rain(RgbImage, SynthRng)"/> draws from, per sample and per layer.
    /// Lengths are in pixels of a ~500 px image; log-uniform where a range spans a factor of ten (density, length,
    /// white share).</summary>
    /// <param name="LayerOdds">Cumulative odds of 1, 2, 3… layers.</param>
    /// <param name="AngleMax">The layers' base direction: ±AngleMax degrees from vertical.</param>
    /// <param name="SpreadMax">Each layer's angle is the base plus N(0, s²), s uniform in 0–SpreadMax
    /// degrees.</param>
    /// <param name="AddShare">Share of samples whose layers are added and clipped instead of
    /// screen-blended.</param>
    /// <param name="WhiteShare">The brightest share of specks the first levels saturate; null: the recipe's quarter
    /// (<see cref="RecipeWhiteShare"/>), not drawn.</param>
    /// <param name="HiGap">The white point of the second levels is at least this far above its black
    /// point.</param>
    /// <param name="DefocusShare">Share of layers blurred by a Gaussian of σ drawn from Defocus.</param>
    /// <param name="VeilShare">Share of samples with a veil O ← αO + (1 − α)A, α from VeilAlpha, A
    /// 0.6–1.</param>
    public sealed record RainStyle(string Name, double[] LayerOdds, double AngleMax, double SpreadMax, double AddShare,
        (double Min, double Max) Density, (double Min, double Max) Speck, (double Min, double Max) Length,
        (double Min, double Max)? WhiteShare, (double Min, double Max) Lo, double HiGap, double HiMax,
        (double Min, double Max) Opacity, double DefocusShare, (double Min, double Max) Defocus, double VeilShare,
        (double Min, double Max) VeilAlpha);

    /// <summary>Many kinds of rain: Rain12's short soft streaks, Rain100H's crossing layers, real photographs'
    /// out-of-focus streaks and veil.</summary>
    public static readonly RainStyle Wide = new("wide", LayerOdds: [0.55, 0.85, 1], AngleMax: 35, SpreadMax: 10,
        AddShare: 0.4, Density: (0.004, 0.08), Speck: (0.4, 1.3), Length: (6, 60), WhiteShare: null, Lo: (0.1, 0.35),
        HiGap: 0.15, HiMax: 0.95, Opacity: (0.25, 1.0), DefocusShare: 0.35, Defocus: (0.5, 1.8), VeilShare: 0.25,
        VeilAlpha: (0.8, 0.97));

    /// <summary>Thin, long, parallel streaks of many brightnesses in one or two layers of one direction, as in
    /// Rain100L and most rain photographed against a dark background. The wide style alone never made rain this
    /// coherent: its streaks' structure-tensor coherence was 0.61–0.83 (10th–90th percentile) against Rain100L's
    /// 0.87–0.96 (docs/synthesis.md).</summary>
    public static readonly RainStyle Fine = new("fine", LayerOdds: [0.6, 1], AngleMax: 30, SpreadMax: 3,
        AddShare: 0, Density: (0.01, 0.06), Speck: (0.45, 0.9), Length: (15, 45), WhiteShare: (0.02, 0.25),
        Lo: (0.05, 0.25), HiGap: 0.3, HiMax: 1.0, Opacity: (0.35, 0.85), DefocusShare: 0, Defocus: (0, 0),
        VeilShare: 0.1, VeilAlpha: (0.85, 0.97));

    /// <summary>Share of <see cref="Rain(RgbImage, SynthRng)"/> samples drawn in the <see cref="Fine"/> style; the
    /// rest are <see cref="Wide"/>.</summary>
    public const double FineShare = 0.4;

    /// <summary>
    /// Rain as a family, drawn per sample so that one model meets the rain of many datasets and cameras: a
    /// <see cref="Fine"/> or a <see cref="Wide"/> sample. Each layer has its own speck density, speck size (streak
    /// width), length, angle (the layers share a base direction with a small spread), brightness and defocus; layers
    /// are screen-blended or added and clipped; some samples get a veil (rain accumulation). Lengths grow only for
    /// images larger than ~500 px (Rain100L is 481×321), so training crops carry streaks of the size a benchmark
    /// image shows, not shrunk with the crop. Only brightens.
    /// </summary>
    public static DegradedPair Rain(RgbImage clean, SynthRng rng) =>
        Rain(clean, rng, rng.Chance(FineShare) ? Fine : Wide);

    /// <summary>Rain of one style (<see cref="Rain(RgbImage, SynthRng)"/> draws the style).</summary>
    public static DegradedPair Rain(RgbImage clean, SynthRng rng, RainStyle st)
    {
        int w = clean.Width, h = clean.Height;
        double scale = Math.Max(1, Math.Max(w, h) / ReferenceSize);
        double u = rng.NextDouble();
        int layers = 1;
        while (layers < st.LayerOdds.Length && u >= st.LayerOdds[layers - 1]) layers++;
        double baseAngle = rng.Uniform(-st.AngleMax, st.AngleMax), spread = rng.Uniform(0, st.SpreadMax);
        bool additive = st.AddShare > 0 && rng.Chance(st.AddShare);
        var o = clean.Clone();
        var list = new List<SynthParams>();
        for (int l = 0; l < layers; l++)
        {
            double density = LogUniform(rng, st.Density);
            double speck = rng.Uniform(st.Speck.Min, st.Speck.Max);
            double length = LogUniform(rng, st.Length) * scale;
            double angle = Math.Clamp(baseAngle + spread * rng.Normal(), -50, 50);
            double? white = st.WhiteShare is { } ws ? LogUniform(rng, ws) : null;
            double lo = rng.Uniform(st.Lo.Min, st.Lo.Max), hi = rng.Uniform(lo + st.HiGap, st.HiMax);
            double a = rng.Uniform(st.Opacity.Min, st.Opacity.Max);
            double defocus = st.DefocusShare > 0 && rng.Chance(st.DefocusShare)
                ? rng.Uniform(st.Defocus.Min, st.Defocus.Max) : 0;
            var s = StreakLayer(w, h, rng, density, length, angle, speck, lo, hi, white ?? RecipeWhiteShare);
            if (defocus > 0) s = ImageOps.GaussianBlur(s, w, h, defocus);
            if (additive) Add(o, s, a); else Screen(o, s, a);
            var lp = new SynthParams().Set("density", density).Set("speck_sigma", speck).Set("length_px", length)
                .Set("angle_deg", angle);
            if (white is { } wv) lp.Set("white_share", wv);
            list.Add(lp.Set("levels", new[] { lo, hi }).Set("opacity", a).Set("defocus_sigma", defocus));
        }
        var p = new SynthParams().Set("kind", "rain").Set("style", st.Name).Set("blend", additive ? "add" : "screen")
            .Set("layers", list);
        if (rng.Chance(st.VeilShare))
        {
            double alpha = rng.Uniform(st.VeilAlpha.Min, st.VeilAlpha.Max), airlight = rng.Uniform(0.6, 1.0);
            Veil(o, alpha, airlight);
            p.Set("veil_alpha", alpha).Set("airlight", airlight);
        }
        return new DegradedPair(o, clean, null, null, p);
    }

    static double LogUniform(SynthRng rng, (double Min, double Max) r) =>
        Math.Exp(rng.Uniform(Math.Log(r.Min), Math.Log(r.Max)));

    /// <summary>Rain accumulation: O ← αO + (1 − α)A.</summary>
    static void Veil(RgbImage o, double alpha, double airlight)
    {
        float af = (float)alpha, bf = (float)((1 - alpha) * airlight);
        for (int i = 0; i < o.Data.Length; i++) o.Data[i] = af * o.Data[i] + bf;
    }

    static void Add(RgbImage o, float[] s, double a)
    {
        int n = o.PlaneSize;
        float af = (float)a;
        for (int c = 0; c < 3; c++)
        {
            var p = o.Plane(c);
            for (int i = 0; i < n; i++) p[i] = Math.Min(1f, p[i] + af * s[i]);
        }
    }

    /// <summary>Rain100H-like: 2–5 streak layers of different angle and length, then a veil O ← αO + (1 −
    /// α)A.</summary>
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
            list.Add(new SynthParams().Set("density", density).Set("length_px", length).Set("angle_deg", angle)
                .Set("opacity", a));
        }
        double alpha = rng.Uniform(0.7, 0.95), airlight = rng.Uniform(0.8, 1.0);
        Veil(o, alpha, airlight);
        var p = new SynthParams().Set("kind", "heavy-rain").Set("layers", list).Set("veil_alpha", alpha)
            .Set("airlight", airlight);
        return new DegradedPair(o, clean, null, null, p);
    }
}
