namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Raindrops on glass (model of Qian et al. CVPR'18, I = (1 − M)⊙B + R), drawn as a family per sample. Each drop is
/// a small fish-eye lens: inside it the view is inverted, shrunken and defocused, brighter, with a dark rim and, on
/// some drops, a specular highlight. Real raindrop photographs (the Raindrop dataset, dash-camera pictures) show
/// dozens to hundreds of drops per image, most of them small, and the drops themselves out of focus because the
/// camera focuses on the scene behind the glass: the whole drop layer is blurred by a focus σ before it is laid
/// over the photo. Drop sizes are in pixels of a ~480 px image and grow only for larger images, so a training crop
/// carries drops of the size a full photograph shows.
/// Matched to what real raindrop photographs show, not to a drop that merely refracts its own surroundings: drops
/// cover up to about half of the picture (the Raindrop test set's inputs are 24 dB from their clean frames), a drop
/// on a window is a wide-angle lens whose view can come from far outside its rim (k up to 3, so a drop on dark road
/// shows the bright sky), and water on glass scatters light, so many drops look milky. The milk is lit by the sky
/// and lights of the scene, not by a grey lamp: its colour leans to the brightest part of the picture and, in
/// daylight, to blue. Drops on a windscreen a few centimetres from a lens focused on the road are far out of focus:
/// the focus σ reaches 10 px at 480, where the drops of real dash-camera pictures are soft discs.
/// </summary>
public static class RaindropSynth
{
    /// <summary>Drop radii are drawn for images whose shorter side is about this many pixels.</summary>
    public const double ReferenceSize = 480;

    public static DegradedPair Apply(RgbImage clean, SynthRng rng)
    {
        int w = clean.Width, h = clean.Height, n = w * h;
        double scale = Math.Max(1, Math.Min(w, h) / ReferenceSize);
        double viewBlur = rng.Uniform(2, 7) * scale;            // what the drop lens sees of the scene
        double focus = rng.Uniform(0.5, 10) * scale;            // defocus of the drops themselves
        double perMegapixel = Math.Exp(rng.Uniform(Math.Log(200), Math.Log(4000)));
        int count = Math.Max(1, (int)Math.Round(perMegapixel * n / 1e6 / (scale * scale)));
        double rMax = rng.Uniform(12, 50);                      // the largest drops of this picture, px at 480
        // scattering in the water film: the drops of one picture share how milky they look and the tone they lean to
        double milk = rng.Chance(0.7) ? rng.Uniform(0, 0.6) : 0;
        double milkTone = rng.Uniform(0.65, 1.0);
        double skyShare = rng.NextDouble(), cool = rng.Uniform(-0.05, 0.15);
        var blurred = ImageOps.GaussianBlur(clean, viewBlur);
        var milkColour = MilkColour(blurred, milkTone, skyShare, cool);
        // the drop layer, premultiplied: colour·alpha and alpha, composited drop over drop
        var layer = new float[3 * n];
        var alphaAll = new float[n];
        var drops = new List<SynthParams>();

        for (int d = 0; d < count; d++)
        {
            // many small drops, few large: r = rMin·(rMax/rMin)^(u²)
            double u = rng.NextDouble();
            double r = 2.0 * Math.Pow(rMax / 2.0, u * u) * scale;
            double cx = rng.Uniform(0, w), cy = rng.Uniform(0, h);
            double aspect = rng.Uniform(0.75, 1.35);
            double psi = rng.Uniform(0, Math.PI);
            var ha = new double[5]; var hb = new double[5];
            double wob = 0;
            for (int m = 2; m <= 4; m++)
            {
                ha[m] = rng.Uniform(-0.06, 0.06); hb[m] = rng.Uniform(-0.06, 0.06);
                wob += Math.Abs(ha[m]) + Math.Abs(hb[m]);
            }
            // k < 1: a magnified view of the drop's surroundings; k > 1: a wide-angle view of a region k·r around it
            double k = Math.Exp(rng.Uniform(Math.Log(0.2), Math.Log(3)));
            double beta = rng.Uniform(0.02, 0.1);
            double bright = rng.Uniform(0.95, 1.3);
            double gamma = rng.Uniform(0.1, 0.5);
            double sigmaA = rng.Uniform(0.05, 0.15) * r;
            double spec = rng.Chance(0.5) ? rng.Uniform(0.2, 0.7) : 0;
            double opacity = rng.Uniform(0.75, 1.0);
            drops.Add(new SynthParams().Set("cx", cx).Set("cy", cy).Set("r", r).Set("aspect", aspect).Set("angle", psi)
                .Set("k", k).Set("beta", beta).Set("brightness", bright).Set("rim", gamma).Set("edge_sigma", sigmaA)
                .Set("highlight", spec).Set("opacity", opacity));

            double sa = Math.Sqrt(aspect);
            double extent = r * Math.Max(sa, 1 / sa) * (1 + wob) + 3 * sigmaA + 3;
            int x0 = (int)Math.Floor(cx - extent), x1 = (int)Math.Ceiling(cx + extent);
            int y0 = (int)Math.Floor(cy - extent), y1 = (int)Math.Ceiling(cy + extent);
            int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
            double cp = DMath.Cos(psi), sp = DMath.Sin(psi);
            var inside = new float[bw * bh];
            var refr = new float[3 * bw * bh];
            double rimW = 0.1 * r;
            // the highlight sits up and to the left of the centre (light from above), a tenth of the drop wide
            double hx = -0.35 * r, hy = -0.4 * r, hs = Math.Max(0.5, 0.12 * r);
            for (int yy = 0; yy < bh; yy++)
                for (int xx = 0; xx < bw; xx++)
                {
                    double px = x0 + xx + 0.5 - cx, py = y0 + yy + 0.5 - cy;
                    // drop frame: rotate by −ψ, squash to a circle
                    double ux = (cp * px + sp * py) / sa, uy = (-sp * px + cp * py) * sa;
                    double dist = Math.Sqrt(ux * ux + uy * uy);
                    double rho = r;
                    if (dist > 1e-9)
                    {
                        // perturbed rim ρ(φ) = r(1 + Σ a_m cos mφ + b_m sin mφ), powers of e^{iφ} without atan2
                        double c1 = ux / dist, s1 = uy / dist, cm = c1, sm = s1, f = 1;
                        for (int m = 2; m <= 4; m++)
                        {
                            double nc = cm * c1 - sm * s1, ns = sm * c1 + cm * s1;
                            cm = nc; sm = ns;
                            f += ha[m] * cm + hb[m] * sm;
                        }
                        rho = r * f;
                    }
                    int li = yy * bw + xx;
                    inside[li] = dist < rho ? 1f : 0f;
                    // refraction: p_src = c − k(p − c) + β·n·r, n from the cap height h = sqrt(ρ² − d²)
                    double dc = Math.Min(dist, rho * 0.999);
                    double hgt = Math.Sqrt(Math.Max(rho * rho - dc * dc, 0));
                    double shrink = dist > 1e-9 ? dc / dist : 1; // outside the rim: use the rim's view
                    double coef = (-k + beta * r / Math.Max(hgt, 0.3 * rho)) * shrink;
                    double sx = cx + coef * px, sy = cy + coef * py;
                    double rimD = rho - dist;
                    double rim = 1 - gamma * DMath.Exp(-(rimD * rimD) / (2 * rimW * rimW));
                    double dhx = px - hx, dhy = py - hy;
                    double glint = spec * DMath.Exp(-(dhx * dhx + dhy * dhy) / (2 * hs * hs));
                    for (int c = 0; c < 3; c++)
                    {
                        float v = ImageOps.Bilinear(blurred.Plane(c), w, h, sx - 0.5, sy - 0.5);
                        double seen = (1 - milk) * v + milk * milkColour[c];
                        refr[c * bw * bh + li] = (float)Math.Min(1.0, seen * bright * rim + glint);
                    }
                }
            var alpha = ImageOps.GaussianBlur(inside, bw, bh, sigmaA);
            for (int yy = 0; yy < bh; yy++)
            {
                int y = y0 + yy; if (y < 0 || y >= h) continue;
                for (int xx = 0; xx < bw; xx++)
                {
                    int x = x0 + xx; if (x < 0 || x >= w) continue;
                    int li = yy * bw + xx;
                    float a = alpha[li] * (float)opacity;
                    if (a <= 0) continue;
                    int gi = y * w + x;
                    for (int c = 0; c < 3; c++)
                        layer[c * n + gi] = a * refr[c * bw * bh + li] + (1 - a) * layer[c * n + gi];
                    alphaAll[gi] = a + (1 - a) * alphaAll[gi];
                }
            }
        }
        if (focus > 0.05)
        {
            alphaAll = ImageOps.GaussianBlur(alphaAll, w, h, focus);
            for (int c = 0; c < 3; c++)
                ImageOps.GaussianBlur(layer.AsSpan(c * n, n), w, h, focus).CopyTo(layer, c * n);
        }
        var o = clean.Clone();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < n; i++)
                o.Data[c * n + i] = Math.Clamp((1 - alphaAll[i]) * o.Data[c * n + i] + layer[c * n + i], 0f, 1f);
        var mask = new float[n];
        for (int i = 0; i < n; i++) mask[i] = alphaAll[i] > 0.5f ? 1f : 0f;
        var p = new SynthParams().Set("kind", "raindrop").Set("view_blur_sigma", viewBlur).Set("focus_sigma", focus)
            .Set("milk", milk).Set("milk_tone", milkTone).Set("milk_rgb", milkColour)
            .Set("count", count).Set("drops", drops);
        return new DegradedPair(o, clean, mask, alphaAll, p);
    }

    /// <summary>
    /// The colour of the light the water film scatters: a grey of level <paramref name="tone"/> moved by
    /// <paramref name="skyShare"/> towards the hue of the brightest 2 % of the picture (the sky, a lamp), then cooled
    /// (red and green lowered by <paramref name="cool"/> and half of it; negative warms).
    /// </summary>
    public static double[] MilkColour(RgbImage scene, double tone, double skyShare, double cool)
    {
        int n = scene.Width * scene.Height;
        var luma = new float[n];
        for (int i = 0; i < n; i++)
            luma[i] = (scene.Data[i] + scene.Data[n + i] + scene.Data[2 * n + i]) / 3;
        float threshold = ImageOps.Quantile(luma, 0.98);
        var sum = new double[3];
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            if (luma[i] < threshold) continue;
            for (int c = 0; c < 3; c++) sum[c] += scene.Data[c * n + i];
            count++;
        }
        double top = Math.Max(1e-6, sum.Max());
        double[] tint = [1 - cool, 1 - cool / 2, 1];
        var colour = new double[3];
        for (int c = 0; c < 3; c++)
        {
            double hue = count > 0 ? sum[c] / top : 1;   // the bright part's hue, its largest channel 1
            colour[c] = Math.Clamp(tone * (1 - skyShare + skyShare * hue) * tint[c], 0, 1);
        }
        return colour;
    }
}
