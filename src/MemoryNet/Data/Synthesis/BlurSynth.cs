namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Motion blur, two models chosen per image: random camera trajectories (Boracchi &amp; Foi, TIP 2012) giving a
/// uniform kernel normalised to sum 1, plus noise N(0, 0.01²); or GoPro-like non-uniform blur (Nah et al.
/// CVPR'17): 7–13 warps along a smooth random path averaged in linear light (gamma 2.2).
/// The input crop carries a border of <see cref="Margin"/> px on each side; both outputs are the centre.
/// </summary>
public static class BlurSynth
{
    /// <summary>Border (px per side) cropped away after blurring: the radius of the 64 px kernel canvas.</summary>
    public const int Margin = 32;
    public const int Canvas = 64;
    public const int Steps = 2000;
    public const double MaxLength = 60;
    public static readonly double[] Exposures = [1.0 / 100, 1.0 / 10, 1.0 / 2, 1.0];

    /// <summary>A random trajectory: Steps complex points inside the canvas.</summary>
    public static (double X, double Y)[] Trajectory(SynthRng rng, out SynthParams info)
    {
        double expl = rng.Uniform(0.001, 0.01);
        double centripetal = 0.7 * rng.NextDouble();
        double pBig = 0.2 * rng.NextDouble();
        double gauss = 10 * rng.NextDouble();
        double th0 = 2 * Math.PI * rng.NextDouble();
        double step = MaxLength / (Steps - 1);
        double vx = DMath.Cos(th0) * expl, vy = DMath.Sin(th0) * expl;
        var x = new (double X, double Y)[Steps];
        int big = 0;
        for (int t = 0; t < Steps - 1; t++)
        {
            double nx = 0, ny = 0;
            if (rng.NextDouble() < pBig * expl)
            {
                double ang = Math.PI + (rng.NextDouble() - 0.5);
                double c = DMath.Cos(ang), s = DMath.Sin(ang);
                nx = 2 * (vx * c - vy * s); ny = 2 * (vx * s + vy * c);
                big++;
            }
            double gx = rng.Normal(), gy = rng.Normal();
            double dvx = nx + expl * (gauss * gx - centripetal * x[t].X) * step;
            double dvy = ny + expl * (gauss * gy - centripetal * x[t].Y) * step;
            vx += dvx; vy += dvy;
            double norm = Math.Sqrt(vx * vx + vy * vy);
            if (norm > 0) { vx = vx / norm * step; vy = vy / norm * step; }
            x[t + 1] = (x[t].X + vx, x[t].Y + vy);
        }
        // centre the trajectory in the canvas
        double minX = x.Min(p => p.X), maxX = x.Max(p => p.X), minY = x.Min(p => p.Y), maxY = x.Max(p => p.Y);
        double ox = (Canvas - (maxX - minX)) / 2 - minX, oy = (Canvas - (maxY - minY)) / 2 - minY;
        for (int i = 0; i < x.Length; i++) x[i] = (x[i].X + ox, x[i].Y + oy);
        info = new SynthParams().Set("expl", expl).Set("centripetal", centripetal).Set("p_big", pBig)
            .Set("gaussian_shake", gauss).Set("theta0", th0).Set("big_turns", big);
        return x;
    }

    /// <summary>
    /// The PSF of the first T·Steps points of a trajectory, splatted bilinearly on the 64×64 canvas and
    /// normalised to sum 1 (not min–max: a known generator's bug); taps are relative to the kernel's centroid.
    /// </summary>
    public static List<ImageOps.Tap> Kernel((double X, double Y)[] traj, double exposure, out float[] canvas)
    {
        int pts = Math.Max(2, (int)Math.Round(exposure * traj.Length));
        var grid = new double[Canvas * Canvas];
        for (int i = 0; i < pts; i++) ImageOps.Splat(grid, Canvas, Canvas, traj[i].X, traj[i].Y, 1.0);
        double sum = 0, mx = 0, my = 0;
        for (int y = 0; y < Canvas; y++)
            for (int x = 0; x < Canvas; x++) { double v = grid[y * Canvas + x]; sum += v; mx += v * x; my += v * y; }
        canvas = new float[grid.Length];
        for (int i = 0; i < grid.Length; i++) canvas[i] = (float)(grid[i] / sum);
        int cx = (int)Math.Round(mx / sum), cy = (int)Math.Round(my / sum);
        return RainSynth.ToTaps(grid, Canvas, Canvas, cx, cy);
    }

    /// <summary>
    /// Blurs a crop that includes a <see cref="Margin"/> px border on each side; input and target are the centre.
    /// </summary>
    public static DegradedPair Apply(RgbImage withBorder, SynthRng rng)
    {
        if (withBorder.Width <= 2 * Margin || withBorder.Height <= 2 * Margin)
            throw new ArgumentException($"blur needs a {Margin} px border around the crop");
        bool trajectory = rng.Chance(0.5);
        return trajectory ? TrajectoryBlur(withBorder, rng) : GoProBlur(withBorder, rng);
    }

    static DegradedPair TrajectoryBlur(RgbImage src, SynthRng rng)
    {
        var traj = Trajectory(rng, out var info);
        double exposure = Exposures[rng.Int(0, Exposures.Length)];
        var taps = Kernel(traj, exposure, out _);
        int w = src.Width, h = src.Height, ow = w - 2 * Margin, oh = h - 2 * Margin;
        var blurred = new RgbImage(w, h);
        for (int c = 0; c < 3; c++) ImageOps.ConvolveSparse(src.Plane(c), w, h, taps).CopyTo(blurred.Plane(c));
        var input = blurred.Crop(Margin, Margin, ow, oh);
        const double noise = 0.01;
        for (int i = 0; i < input.Data.Length; i++)
            input.Data[i] = Math.Clamp(input.Data[i] + (float)(noise * rng.Normal()), 0f, 1f);
        var target = src.Crop(Margin, Margin, ow, oh);
        int extent = taps.Max(t => Math.Max(Math.Abs(t.Dx), Math.Abs(t.Dy)));
        var p = new SynthParams().Set("kind", "blur").Set("method", "trajectory").Set("exposure", exposure)
            .Set("kernel_taps", taps.Count).Set("kernel_radius", extent).Set("noise_sigma", noise).Set("trajectory", info);
        return new DegradedPair(input, target, null, null, p);
    }

    static DegradedPair GoProBlur(RgbImage src, SynthRng rng)
    {
        int frames = 7 + 2 * rng.Int(0, 4); // 7, 9, 11, 13: odd, the middle one is the identity
        double tmax = rng.Uniform(3, 15);
        double phi = rng.Uniform(0, 2 * Math.PI);
        double vx = tmax * DMath.Cos(phi), vy = tmax * DMath.Sin(phi);
        double cphi = rng.Uniform(0, 2 * Math.PI), curv = rng.Uniform(0, 0.4) * tmax;
        double wx = curv * DMath.Cos(cphi), wy = curv * DMath.Sin(cphi);
        double lim = 15 / Math.Max(Math.Sqrt((vx + wx) * (vx + wx) + (vy + wy) * (vy + wy)), Math.Sqrt((wx - vx) * (wx - vx) + (wy - vy) * (wy - vy)));
        if (lim < 1) { vx *= lim; vy *= lim; wx *= lim; wy *= lim; }
        double deg = Math.PI / 180;
        double om1 = rng.Uniform(-1.5, 1.5) * deg, om2 = rng.Uniform(-0.5, 0.5) * deg;

        int w = src.Width, h = src.Height, ow = w - 2 * Margin, oh = h - 2 * Margin;
        const double g = 2.2;
        var lin = new RgbImage(w, h);
        for (int i = 0; i < src.Data.Length; i++) lin.Data[i] = (float)DMath.Pow(Math.Max(src.Data[i], 0f), g);
        var acc = new double[3 * ow * oh];
        double ccx = (w - 1) / 2.0, ccy = (h - 1) / 2.0;
        int mid = frames / 2;
        for (int f = 0; f < frames; f++)
        {
            double s = (f - mid) / (double)mid;
            double tx = vx * s + wx * s * s, ty = vy * s + wy * s * s;
            double th = om1 * s + om2 * s * s;
            double ct = DMath.Cos(th), st = DMath.Sin(th);
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                {
                    double px = x + Margin - ccx, py = y + Margin - ccy;
                    double sx = ccx + ct * px - st * py + tx, sy = ccy + st * px + ct * py + ty;
                    for (int c = 0; c < 3; c++)
                        acc[c * ow * oh + y * ow + x] += ImageOps.Bilinear(lin.Plane(c), w, h, sx, sy);
                }
        }
        var input = new RgbImage(ow, oh);
        for (int i = 0; i < acc.Length; i++) input.Data[i] = (float)DMath.Pow(acc[i] / frames, 1 / g);
        var target = src.Crop(Margin, Margin, ow, oh);
        var p = new SynthParams().Set("kind", "blur").Set("method", "gopro").Set("frames", frames)
            .Set("translation_px", new[] { SynthParams.R(vx), SynthParams.R(vy) }).Set("curvature_px", new[] { SynthParams.R(wx), SynthParams.R(wy) })
            .Set("rotation_deg", new[] { SynthParams.R(om1 / deg), SynthParams.R(om2 / deg) }).Set("gamma", g);
        return new DegradedPair(input, target, null, null, p);
    }
}
