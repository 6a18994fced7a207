using MemoryNet.Imaging;

namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Motion blur (see <see cref="Apply"/>): random camera trajectories (Boracchi &amp; Foi, TIP 2012) giving a uniform
/// kernel normalised to sum 1, measured kernels, or GoPro-like non-uniform blur (Nah et al. CVPR'17: 7–13 frames
/// warped along a smooth random path and averaged, see <see cref="GoProBlur"/>), all under a camera response drawn per
/// pair. The input crop carries a border of <see cref="Margin"/> px on each side; both outputs are the centre.
/// </summary>
public static class BlurSynth
{
    /// <summary>Border (px per side) cropped away after blurring: the radius of the 64 px kernel canvas.</summary>
    public const int Margin = 32;
    public const int Canvas = 64;
    public const int Steps = 2000;
    public const double MaxLength = 60;
    public static readonly double[] Exposures = [1.0 / 100, 1.0 / 10, 1.0 / 2, 1.0];
    /// <summary>Most warps one GoPro-like pair averages (frames × samples within each frame's exposure).</summary>
    public const int MaxWarpSamples = 96;

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

    /// <summary>The move (at most half a pixel) that takes a kernel's centroid <paramref name="c"/> to a whole pixel.
    /// None below 1e-6 px: a balanced kernel's moments cancel only to the float rounding of its weights, and a move
    /// of 1e-8 px would splat each sample into up to four taps, up to four times the convolution's work for
    /// nothing.</summary>
    internal static double ToWholePixel(double c) => Math.Abs(Math.Round(c) - c) < 1e-6 ? 0 : Math.Round(c) - c;

    /// <summary>
    /// The PSF of the first T·Steps points of a trajectory, splatted bilinearly on the 64×64 canvas and
    /// normalised to sum 1 (not min–max: a known generator's bug); taps are relative to the kernel's centroid, which
    /// lies on a whole pixel: the points are moved by at most half a pixel first, since a kernel off its centre by
    /// a fraction of a pixel shifts the blurred picture by an amount no network can see, and one trained to guess it
    /// hedges by softening (docs/synthesis.md).
    /// </summary>
    public static List<ImageOps.Tap> Kernel((double X, double Y)[] traj, double exposure, out float[] canvas)
    {
        int pts = Math.Max(2, (int)Math.Round(exposure * traj.Length));
        double ux = 0, uy = 0;
        for (int i = 0; i < pts; i++) { ux += traj[i].X; uy += traj[i].Y; }
        ux /= pts; uy /= pts;
        double ox = ToWholePixel(ux), oy = ToWholePixel(uy);
        var grid = new double[Canvas * Canvas];
        for (int i = 0; i < pts; i++) ImageOps.Splat(grid, Canvas, Canvas, traj[i].X + ox, traj[i].Y + oy, 1.0);
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
    /// A family drawn per sample, under a camera response drawn per pair (<see cref="CameraResponse"/>: the encoded
    /// values, linear light or between), so that how much blur brightens a picture does not tell the network how much
    /// to darken it.
    /// Then GoPro-like non-uniform warps (40 %), a random camera trajectory, or, when <paramref name="kernels"/> are
    /// given, a measured kernel turned and rescaled (30 % of samples). Before blurring, a third of the scenes get their
    /// highlights raised above white (lamps, sun glints), so that blurring spreads them into the clipped light streaks
    /// of long exposures; the target is the scene as the camera would have clipped it sharp. A tenth of the pictures
    /// (<see cref="SharpShare"/>) stay sharp. After: Poisson–Gaussian sensor noise and, on 40 %, JPEG compression
    /// (quality 60–95).
    /// </summary>
    public static DegradedPair Apply(RgbImage withBorder, SynthRng rng, BlurKernelBank? kernels = null)
    {
        if (withBorder.Width <= 2 * Margin || withBorder.Height <= 2 * Margin)
            throw new ArgumentException($"blur needs a {Margin} px border around the crop");
        int w = withBorder.Width, h = withBorder.Height, ow = w - 2 * Margin, oh = h - 2 * Margin;
        double gamma = CameraResponse(rng);
        var p = new SynthParams().Set("kind", "blur").Set("gamma", gamma);
        var lin = new RgbImage(w, h);
        for (int i = 0; i < lin.Data.Length; i++) lin.Data[i] = Math.Max(withBorder.Data[i], 0f);
        DMath.Pow(lin.Data, gamma, lin.Data);
        // some pictures are sharp and only noisy or compressed: without them every JPEG block edge the network saw
        // came with blur, and it sharpened the blocks of sharp JPEG photos (−1.2 dB on clean/val at quality 60–95)
        bool sharp = rng.Chance(SharpShare);
        if (!sharp && rng.Chance(0.3))
        {
            double gain = rng.Uniform(2, 8), threshold = rng.Uniform(0.8, 0.95);
            RaiseHighlights(lin, gain, threshold, gamma);
            p.Set("highlight_gain", gain).Set("highlight_threshold", threshold);
        }
        double u = rng.NextDouble();
        RgbImage blurred = sharp ? Unblurred(lin, p)
            : u < 0.4 ? GoProBlur(lin, rng, p)
            : u >= 0.7 && kernels is not null ? MeasuredKernelBlur(lin, rng, kernels, p)
            : TrajectoryBlur(lin, rng, p);
        var input = new RgbImage(ow, oh);
        for (int i = 0; i < input.Data.Length; i++) input.Data[i] = Math.Clamp(blurred.Data[i], 0f, 1f);
        DMath.Pow(input.Data, 1 / gamma, input.Data);
        // sensor noise, signal-dependent: σ² = read² + shot·x
        double read = rng.Uniform(0, 0.015), shot = rng.Uniform(0, 4e-4);
        var z = new double[input.Data.Length];
        rng.Normals(z);
        for (int i = 0; i < input.Data.Length; i++)
        {
            double x = input.Data[i];
            input.Data[i] = Math.Clamp((float)(x + Math.Sqrt(read * read + shot * x) * z[i]), 0f, 1f);
        }
        p.Set("noise_read_sigma", read).Set("noise_shot", shot);
        if (rng.Chance(0.4))
        {
            int q = rng.Int(60, 96);
            input = JpegRoundTrip(input, q);
            p.Set("jpeg_quality", q);
        }
        var target = withBorder.Crop(Margin, Margin, ow, oh);
        return new DegradedPair(input, target, null, null, p);
    }

    const double Gamma = 2.2;

    /// <summary>The gamma the picture is blurred under: the encoded values (1) on a third of the pairs, as GoPro's
    /// standard <c>blur</c> frames, REDS and HIDE average them; linear light (2.2) on a third, as a sensor integrates;
    /// between the two on the rest, for tone curves in between. With a tenth near 1 the network learnt the linear case
    /// only: on validation pairs below gamma 1.6 it gained half as much, and a longer run did not move them.</summary>
    internal static double CameraResponse(SynthRng rng)
    {
        double u = rng.NextDouble();
        return u < 1 / 3.0 ? 1 : u < 2 / 3.0 ? Gamma : rng.Uniform(1, Gamma);
    }

    /// <summary>Share of pairs left sharp: the camera's noise and JPEG only.</summary>
    public const double SharpShare = 0.1;

    static RgbImage Unblurred(RgbImage lin, SynthParams p)
    {
        p.Set("method", "none");
        return lin.Crop(Margin, Margin, lin.Width - 2 * Margin, lin.Height - 2 * Margin);
    }

    /// <summary>Linear values above the threshold's level rise smoothly towards gain × (a light source clipped at
    /// white).</summary>
    static void RaiseHighlights(RgbImage lin, double gain, double threshold, double gamma)
    {
        int n = lin.PlaneSize;
        double t = DMath.Pow(threshold, gamma);
        for (int i = 0; i < n; i++)
        {
            double lum = 0.2126 * lin.Data[i] + 0.7152 * lin.Data[n + i] + 0.0722 * lin.Data[2 * n + i];
            if (lum <= t) continue;
            double s = Math.Min(1, (lum - t) / (1 - t));
            float f = (float)(1 + (gain - 1) * s * s * (3 - 2 * s));
            for (int c = 0; c < 3; c++) lin.Data[c * n + i] *= f;
        }
    }

    static RgbImage JpegRoundTrip(RgbImage img, int quality)
    {
        var bytes = ImageCodec.Encode(img.Quantize8().ToImageData(), ".jpg", quality);
        return RgbImage.FromImageData(ImageCodec.Decode(bytes, "blur.jpg"));
    }

    static RgbImage Convolve(RgbImage lin, List<ImageOps.Tap> taps)
    {
        int w = lin.Width, h = lin.Height;
        int ow = w - 2 * Margin, oh = h - 2 * Margin;
        var blurred = new RgbImage(ow, oh);
        for (int c = 0; c < 3; c++)
            ImageOps.ConvolveSparse(lin.Plane(c), w, h, taps, Margin, Margin, ow, oh).CopyTo(blurred.Plane(c));
        return blurred;
    }

    static RgbImage TrajectoryBlur(RgbImage lin, SynthRng rng, SynthParams p)
    {
        var traj = Trajectory(rng, out var info);
        double exposure = Exposures[rng.Int(0, Exposures.Length)];
        var taps = Kernel(traj, exposure, out _);
        int extent = taps.Max(t => Math.Max(Math.Abs(t.Dx), Math.Abs(t.Dy)));
        p.Set("method", "trajectory").Set("exposure", exposure).Set("kernel_taps", taps.Count)
            .Set("kernel_radius", extent).Set("trajectory", info);
        return Convolve(lin, taps);
    }

    static RgbImage MeasuredKernelBlur(RgbImage lin, SynthRng rng, BlurKernelBank kernels, SynthParams p)
    {
        int k = rng.Int(0, kernels.Kernels.Count), mode = rng.Int(0, 8);
        double scale = Math.Exp(rng.Uniform(Math.Log(0.35), Math.Log(1.6)));
        var taps = kernels.Taps(k, mode, scale, Canvas);
        p.Set("method", "kernel").Set("kernel", kernels.Kernels[k].Name).Set("kernel_transform", mode)
            .Set("kernel_scale", scale)
            .Set("kernel_taps", taps.Count);
        return Convolve(lin, taps);
    }

    /// <summary>GoPro-like non-uniform blur of a linear picture with a <see cref="Margin"/> px border: 7–13 frames
    /// warped (shift and turn) along a smooth path and averaged, each either instantaneous or exposed over part of the
    /// interval to the next; the parameters go into <paramref name="p"/>.</summary>
    public static RgbImage GoProBlur(RgbImage lin, SynthRng rng, SynthParams p)
    {
        int frames = 7 + 2 * rng.Int(0, 4); // 7, 9, 11, 13: odd, the middle one on the target's place
        // path half-length log-uniform: most real shake is mild, and a family of mostly heavy blur taught the network
        // that every soft edge is blurred (it sharpened defocus and haze in nearly sharp photos)
        double tmax = Math.Exp(rng.Uniform(0, Math.Log(24)));
        double phi = rng.Uniform(0, 2 * Math.PI);
        double vx = tmax * DMath.Cos(phi), vy = tmax * DMath.Sin(phi);
        double cphi = rng.Uniform(0, 2 * Math.PI), curv = rng.Uniform(0, 0.4) * tmax;
        double wx = curv * DMath.Cos(cphi), wy = curv * DMath.Sin(cphi);
        double lim = 28 / Math.Max(Math.Sqrt((vx + wx) * (vx + wx) + (vy + wy) * (vy + wy)),
            Math.Sqrt((wx - vx) * (wx - vx) + (wy - vy) * (wy - vy)));
        if (lim < 1) { vx *= lim; vy *= lim; wx *= lim; wy *= lim; }
        double deg = Math.PI / 180;
        double om1 = rng.Uniform(-1.5, 1.5) * deg, om2 = rng.Uniform(-0.5, 0.5) * deg;

        int w = lin.Width, h = lin.Height, ow = w - 2 * Margin, oh = h - 2 * Margin;
        double ccx = (w - 1) / 2.0, ccy = (h - 1) / 2.0;
        int mid = frames / 2;
        // Each frame's own exposure: a 240 fps frame is exposed for up to 1/240 s, so a fast path leaves separate
        // copies only where the shutter was short. Half the warps integrate each frame over a share (duty) of the
        // interval to the next, sampled at most ~0.75 px apart; the others keep instantaneous frames (ghosts).
        double duty = rng.Chance(0.5) ? rng.Uniform(0.5, 1) : 0;
        double speed = Math.Sqrt(vx * vx + vy * vy) + 2 * Math.Sqrt(wx * wx + wy * wy)   // px per unit of s, at most
            + (Math.Abs(om1) + 2 * Math.Abs(om2)) * Math.Sqrt(ccx * ccx + ccy * ccy);
        int sub = duty == 0 ? 1 : Math.Clamp((int)Math.Ceiling(duty * speed / mid / 0.75), 1, MaxWarpSamples / frames);
        var positions = new List<double>(frames * sub);
        double span = 1 + duty / (2 * mid);   // the first and last frames' exposures stay on the path's s in [-1, 1]
        for (int f = 0; f < frames; f++)
            for (int j = 0; j < sub; j++)
                positions.Add(((f - mid) / (double)mid + duty / mid * ((j + 0.5) / sub - 0.5)) / span);

        var acc = new double[3 * ow * oh];
        foreach (double s in positions)
        {
            double tx = vx * s + wx * s * s, ty = vy * s + wy * s * s;
            double th = om1 * s + om2 * s * s;
            double ct = DMath.Cos(th), st = DMath.Sin(th);
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                {
                    double px = x + Margin - ccx, py = y + Margin - ccy;
                    double sx = ccx + ct * px - st * py + tx, sy = ccy + st * px + ct * py + ty;
                    var tap = new ImageOps.BilinearTap(w, h, sx, sy);
                    for (int c = 0; c < 3; c++) acc[c * ow * oh + y * ow + x] += tap.Sample(lin.Plane(c));
                }
        }
        var blurred = new RgbImage(ow, oh);
        for (int i = 0; i < acc.Length; i++) blurred.Data[i] = (float)(acc[i] / positions.Count);
        p.Set("method", "gopro").Set("frames", frames).Set("frame_exposure", SynthParams.R(duty))
            .Set("samples", positions.Count)
            .Set("translation_px", new[] { SynthParams.R(vx), SynthParams.R(vy) })
            .Set("curvature_px", new[] { SynthParams.R(wx), SynthParams.R(wy) })
            .Set("rotation_deg", new[] { SynthParams.R(om1 / deg), SynthParams.R(om2 / deg) });
        return blurred;
    }
}
