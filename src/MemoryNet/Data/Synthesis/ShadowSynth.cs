namespace MemoryNet.Data.Synthesis;

/// <summary>
/// SynShadow (Inoue &amp; Yamasaki, TCSVT 2021): I_s = m ⊙ D(I_sf) + (1 − m) ⊙ I_sf with a soft matte m and
/// per-channel darkening D_c(x) = clip(a·(x − x1_c), 0, 1), blue darkened least (skylight). Here D_c(x) is
/// also capped at x, so that a shadow never brightens a pixel.
/// </summary>
public static class ShadowSynth
{
    public static DegradedPair Apply(RgbImage clean, SynthRng rng)
    {
        int w = clean.Width, h = clean.Height, n = w * h;
        double x1, y2, a;
        do { x1 = rng.Uniform(0, 0.25); y2 = rng.Uniform(0.1, 0.9); a = y2 / (1 - x1); } while (a >= 1);
        double dR = TruncNormal(rng, 0.05, 0.025), dB = TruncNormal(rng, 0.05, 0.025);
        double[] x1c = [x1 + dR, x1, x1 - dB];

        double coverageTarget = rng.Uniform(0.05, 0.4);
        bool polygons = rng.Chance(0.5);
        float[] binary = polygons ? PolygonMatte(w, h, rng, coverageTarget, out var shapeInfo) : NoiseMatte(w, h, rng, coverageTarget, out shapeInfo);
        double sigma = rng.Uniform(1, 15);
        var matte = ImageOps.GaussianBlur(binary, w, h, sigma);
        double cov = 0;
        foreach (var v in binary) cov += v;
        cov /= n;

        var o = clean.Clone();
        for (int c = 0; c < 3; c++)
        {
            var p = o.Plane(c);
            float af = (float)a, x1f = (float)x1c[c];
            for (int i = 0; i < n; i++)
            {
                float m = matte[i];
                if (m <= 0) continue;
                float x = p[i];
                float dx = Math.Min(x, Math.Clamp(af * (x - x1f), 0f, 1f));
                p[i] = m * dx + (1 - m) * x;
            }
        }
        var mask = new float[n];
        for (int i = 0; i < n; i++) mask[i] = matte[i] > 0.5f ? 1f : 0f;
        var par = new SynthParams().Set("kind", "shadow").Set("a", a).Set("x1_r", x1c[0]).Set("x1_g", x1c[1]).Set("x1_b", x1c[2])
            .Set("y2", y2).Set("matte", polygons ? "polygons" : "noise").Set("matte_info", shapeInfo)
            .Set("coverage", cov).Set("penumbra_sigma", sigma);
        return new DegradedPair(o, clean, mask, matte, par);
    }

    static double TruncNormal(SynthRng rng, double mean, double std)
    {
        double v;
        do v = rng.Normal(mean, std); while (v < 0);
        return v;
    }

    /// <summary>A union of 1–3 random star-shaped polygons covering about the target fraction.</summary>
    static float[] PolygonMatte(int w, int h, SynthRng rng, double target, out SynthParams info)
    {
        int count = rng.Int(1, 4);
        var polys = new List<(double X, double Y)[]>();
        for (int p = 0; p < count; p++)
        {
            double cx = rng.Uniform(0, w), cy = rng.Uniform(0, h);
            int nv = rng.Int(3, 11);
            var verts = new (double, double)[nv];
            for (int v = 0; v < nv; v++)
            {
                double ang = 2 * Math.PI * (v + rng.Uniform(-0.35, 0.35)) / nv;
                double rad = rng.Uniform(0.4, 1.3);
                verts[v] = (cx + rad * DMath.Cos(ang), cy + rad * DMath.Sin(ang));
            }
            polys.Add(verts);
        }
        // scale the (unit-radius) polygons about their centres until the union covers about `target`
        double scale = Math.Sqrt(target * w * h / (count * Math.PI));
        float[] mask = [];
        double cov = 0;
        for (int iter = 0; iter < 12; iter++)
        {
            mask = Rasterize(w, h, polys, scale);
            cov = 0;
            foreach (var v in mask) cov += v;
            cov /= (double)w * h;
            if (cov >= 0.05 && cov <= 0.4 && Math.Abs(cov - target) < 0.25 * target) break;
            scale *= cov > 0 ? Math.Clamp(Math.Sqrt(target / cov), 0.5, 2.0) : 2.0;
        }
        info = new SynthParams().Set("polygons", count).Set("scale_px", scale);
        return mask;
    }

    static float[] Rasterize(int w, int h, List<(double X, double Y)[]> polys, double scale)
    {
        var mask = new float[w * h];
        foreach (var poly in polys)
        {
            double mx = 0, my = 0;
            foreach (var (x, y) in poly) { mx += x; my += y; }
            mx /= poly.Length; my /= poly.Length;
            // vertices were drawn around (cx, cy) at unit radius: the first moment of unit offsets is small; scale offsets
            var pts = poly.Select(p => (X: mx + (p.X - mx) * scale, Y: my + (p.Y - my) * scale)).ToArray();
            double minY = pts.Min(p => p.Y), maxY = pts.Max(p => p.Y);
            int ya = Math.Max(0, (int)Math.Floor(minY)), yb = Math.Min(h - 1, (int)Math.Ceiling(maxY));
            var xs = new List<double>();
            for (int y = ya; y <= yb; y++)
            {
                double sy = y + 0.5;
                xs.Clear();
                for (int i = 0, j = pts.Length - 1; i < pts.Length; j = i++)
                {
                    var (xi, yi) = pts[i]; var (xj, yj) = pts[j];
                    if ((yi > sy) != (yj > sy)) xs.Add(xi + (sy - yi) * (xj - xi) / (yj - yi));
                }
                xs.Sort();
                for (int k = 0; k + 1 < xs.Count; k += 2)
                {
                    int xa = Math.Max(0, (int)Math.Ceiling(xs[k] - 0.5)), xb = Math.Min(w - 1, (int)Math.Floor(xs[k + 1] - 0.5));
                    for (int x = xa; x <= xb; x++) mask[y * w + x] = 1f;
                }
            }
        }
        return mask;
    }

    /// <summary>Thresholded low-frequency noise (a coarse random grid, smoothly interpolated) at the target coverage.</summary>
    static float[] NoiseMatte(int w, int h, SynthRng rng, double target, out SynthParams info)
    {
        int g = rng.Int(2, 7);
        int gw = g + 2, gh = g + 2;
        var grid = new float[gw * gh];
        for (int i = 0; i < grid.Length; i++) grid[i] = rng.NextFloat();
        var field = new float[w * h];
        double cell = Math.Max(w, h) / (double)g;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double gx = x / cell + 0.5, gy = y / cell + 0.5;
                int ix = (int)gx, iy = (int)gy;
                double fx = gx - ix, fy = gy - iy;
                fx = fx * fx * (3 - 2 * fx); fy = fy * fy * (3 - 2 * fy); // smoothstep
                double a = grid[iy * gw + ix] + fx * (grid[iy * gw + ix + 1] - grid[iy * gw + ix]);
                double b = grid[(iy + 1) * gw + ix] + fx * (grid[(iy + 1) * gw + ix + 1] - grid[(iy + 1) * gw + ix]);
                field[y * w + x] = (float)(a + fy * (b - a));
            }
        float thr = ImageOps.Quantile(field, 1 - target);
        var mask = new float[w * h];
        for (int i = 0; i < mask.Length; i++) mask[i] = field[i] > thr ? 1f : 0f;
        info = new SynthParams().Set("grid", g);
        return mask;
    }
}
