namespace MemoryNet.Data.Synthesis;

/// <summary>
/// SynShadow (Inoue &amp; Yamasaki, TCSVT 2021): I_s = m ⊙ D(I_sf) + (1 − m) ⊙ I_sf with a soft matte m and
/// per-channel darkening D_c(x) = clip(a·(x − x1_c), 0, 1), blue darkened least (skylight). Here D_c(x) is
/// also capped at x, so that a shadow never brightens a pixel. The matte is a family of occluders: random polygons,
/// low-frequency blobs, the straight or stepped edge of a building, tree branches with dappled leaves, poles and
/// people; its penumbra is hard on one side of the picture and soft on the other, as a shadow is near and far from
/// the object that casts it.
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
        double u = rng.NextDouble();
        string shape = u < 0.25 ? "polygons" : u < 0.45 ? "noise" : u < 0.7 ? "edge" : u < 0.85 ? "branches" : "poles";
        SynthParams shapeInfo;
        float[] binary = shape switch
        {
            "polygons" => PolygonMatte(w, h, rng, coverageTarget, out shapeInfo),
            "noise" => NoiseMatte(w, h, rng, coverageTarget, out shapeInfo),
            "edge" => EdgeMatte(w, h, rng, out shapeInfo),
            "branches" => BranchMatte(w, h, rng, out shapeInfo),
            _ => PoleMatte(w, h, rng, out shapeInfo),
        };
        double drawn = binary.Average();
        // a branch that wandered off the picture, poles that cover it: polygons instead
        if (drawn < 0.02 || drawn > 0.7)
        {
            shape = "polygons";
            binary = PolygonMatte(w, h, rng, coverageTarget, out shapeInfo);
            drawn = binary.Average();
        }
        // the penumbra widens with the distance from the occluder to the ground: hard on one side of the picture,
        // soft on the other (σ from sigma to sigma·spread along a random direction)
        double sigma = Math.Exp(rng.Uniform(Math.Log(0.7), Math.Log(12))), spread = rng.Uniform(1, 5);
        double dir = rng.Uniform(0, 2 * Math.PI);
        var matte = VaryingBlur(binary, w, h, sigma, Math.Min(sigma * spread, 20), dir);
        // a penumbra wider than the occluder leaves no umbra (a thin pole's shadow would vanish): narrow it until at
        // least half of the drawn shape stays in shadow
        for (int k = 0; k < 4 && matte.Count(v => v > 0.5f) < 0.5 * drawn * n; k++)
        {
            sigma /= 2;
            matte = VaryingBlur(binary, w, h, sigma, Math.Min(sigma * spread, 20), dir);
        }
        double cov = drawn;

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
        var par = new SynthParams().Set("kind", "shadow").Set("a", a).Set("x1_r", x1c[0]).Set("x1_g", x1c[1])
            .Set("x1_b", x1c[2])
            .Set("y2", y2).Set("matte", shape).Set("matte_info", shapeInfo)
            .Set("coverage", cov).Set("penumbra_sigma", new[] { sigma, Math.Min(sigma * spread, 20) })
            .Set("penumbra_direction", dir);
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
            // vertices were drawn around (cx, cy) at unit radius: the first moment of unit offsets is small; scale
            // offsets
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
                    int xa = Math.Max(0, (int)Math.Ceiling(xs[k] - 0.5)),
                        xb = Math.Min(w - 1, (int)Math.Floor(xs[k + 1] - 0.5));
                    for (int x = xa; x <= xb; x++) mask[y * w + x] = 1f;
                }
            }
        }
        return mask;
    }

    /// <summary>Blur whose σ goes from s0 to s1 along direction <paramref name="dir"/> (two blurs mixed by
    /// position).</summary>
    static float[] VaryingBlur(float[] binary, int w, int h, double s0, double s1, double dir)
    {
        var a = ImageOps.GaussianBlur(binary, w, h, s0);
        if (s1 - s0 < 0.25) return a;
        var b = ImageOps.GaussianBlur(binary, w, h, s1);
        double dx = DMath.Cos(dir), dy = DMath.Sin(dir);
        double lo = Math.Min(0, dx * w) + Math.Min(0, dy * h), hi = Math.Max(0, dx * w) + Math.Max(0, dy * h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float t = (float)((x * dx + y * dy - lo) / Math.Max(hi - lo, 1));
                int i = y * w + x;
                a[i] += t * (b[i] - a[i]);
            }
        return a;
    }

    /// <summary>The shadow of a building: one side of a line across the picture, its edge straight or
    /// stepped.</summary>
    static float[] EdgeMatte(int w, int h, SynthRng rng, out SynthParams info)
    {
        double ang = rng.Uniform(0, 2 * Math.PI), nx = DMath.Cos(ang), ny = DMath.Sin(ang);
        // the line passes so that 15–60 % of the picture is in shadow
        double frac = rng.Uniform(0.15, 0.6);
        var proj = new float[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) proj[y * w + x] = (float)(x * nx + y * ny);
        double off = ImageOps.Quantile(proj, frac);
        int steps = rng.Chance(0.5) ? rng.Int(1, 5) : 0;     // a roofline's steps along the edge
        double period = Math.Max(w, h) / (double)Math.Max(1, steps),
            depth = steps > 0 ? rng.Uniform(0.03, 0.12) * Math.Max(w, h) : 0;
        double phase = rng.Uniform(0, period);
        var mask = new float[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double along = -x * ny + y * nx;
                double notch = steps > 0
                    && ((along + phase) / period - Math.Floor((along + phase) / period)) < 0.5 ? depth : 0;
                mask[y * w + x] = proj[y * w + x] < off + notch ? 1f : 0f;
            }
        info = new SynthParams().Set("angle", ang).Set("fraction", frac).Set("steps", steps);
        return mask;
    }

    /// <summary>Tree shadow: 1–4 branches (random walks with tapering width) carrying leaf blobs, dappled.</summary>
    static float[] BranchMatte(int w, int h, SynthRng rng, out SynthParams info)
    {
        var mask = new float[w * h];
        int branches = rng.Int(1, 5), leaves = 0;
        double size = Math.Max(w, h);
        for (int b = 0; b < branches; b++)
        {
            double x = rng.Uniform(0, w), y = rng.Uniform(0, h), heading = rng.Uniform(0, 2 * Math.PI);
            double width = rng.Uniform(0.01, 0.04) * size;
            int segs = rng.Int(20, 60);
            double stepLen = size / segs * rng.Uniform(0.5, 1.2);
            for (int sgm = 0; sgm < segs; sgm++)
            {
                heading += rng.Normal(0, 0.25);
                x += stepLen * DMath.Cos(heading); y += stepLen * DMath.Sin(heading);
                double r = width * (1 - 0.8 * sgm / (double)segs);
                Disc(mask, w, h, x, y, r);
                if (rng.Chance(0.5))
                {
                    // a cluster of leaves beside the branch
                    double lr = rng.Uniform(0.015, 0.05) * size;
                    double la = heading + rng.Uniform(-2, 2), ld = rng.Uniform(1, 3) * lr;
                    Disc(mask, w, h, x + ld * DMath.Cos(la), y + ld * DMath.Sin(la), lr);
                    leaves++;
                }
            }
        }
        info = new SynthParams().Set("branches", branches).Set("leaves", leaves);
        return mask;
    }

    /// <summary>Poles, posts and people: 1–4 long quadrilaterals, nearly parallel (one sun).</summary>
    static float[] PoleMatte(int w, int h, SynthRng rng, out SynthParams info)
    {
        int count = rng.Int(1, 5);
        double dir = rng.Uniform(0, Math.PI), size = Math.Max(w, h);
        var polys = new List<(double X, double Y)[]>();
        for (int i = 0; i < count; i++)
        {
            double a = dir + rng.Normal(0, 0.08);
            double len = rng.Uniform(0.4, 1.5) * size, wid0 = rng.Uniform(0.02, 0.12) * size,
                wid1 = wid0 * rng.Uniform(0.5, 1.5);
            double cx = rng.Uniform(0, w), cy = rng.Uniform(0, h);
            double ux = DMath.Cos(a), uy = DMath.Sin(a), px = -uy, py = ux;
            polys.Add([
                (cx - ux * len / 2 - px * wid0 / 2, cy - uy * len / 2 - py * wid0 / 2),
                (cx - ux * len / 2 + px * wid0 / 2, cy - uy * len / 2 + py * wid0 / 2),
                (cx + ux * len / 2 + px * wid1 / 2, cy + uy * len / 2 + py * wid1 / 2),
                (cx + ux * len / 2 - px * wid1 / 2, cy + uy * len / 2 - py * wid1 / 2)]);
        }
        info = new SynthParams().Set("poles", count).Set("direction", dir);
        return Rasterize(w, h, polys, 1);
    }

    static void Disc(float[] mask, int w, int h, double cx, double cy, double r)
    {
        int x0 = Math.Max(0, (int)Math.Floor(cx - r)), x1 = Math.Min(w - 1, (int)Math.Ceiling(cx + r));
        int y0 = Math.Max(0, (int)Math.Floor(cy - r)), y1 = Math.Min(h - 1, (int)Math.Ceiling(cy + r));
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
                if ((x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy) <= r * r) mask[y * w + x] = 1f;
    }

    /// <summary>Thresholded low-frequency noise (a coarse random grid, smoothly interpolated) at the target
    /// coverage.</summary>
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
