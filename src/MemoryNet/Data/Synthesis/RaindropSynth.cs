namespace MemoryNet.Data.Synthesis;

/// <summary>
/// Raindrops on glass (model of Qian et al. CVPR'18, I = (1 − M)⊙B + R). Each drop is a small fish-eye lens:
/// inside it the view is inverted, shrunken and defocused, brighter, with a dark rim; its alpha is the drop
/// shape blurred by σ = 0.05–0.15 r; mask = alpha &gt; 0.5.
/// </summary>
public static class RaindropSynth
{
    public static DegradedPair Apply(RgbImage clean, SynthRng rng)
    {
        int w = clean.Width, h = clean.Height, n = w * h;
        double defocus = rng.Uniform(2, 7);
        var blurred = ImageOps.GaussianBlur(clean, defocus);
        int count = rng.Int(5, 41);
        var o = clean.Clone();
        var alphaAll = new float[n];
        var drops = new List<SynthParams>();
        double minDim = Math.Min(w, h);

        for (int d = 0; d < count; d++)
        {
            double r = Math.Max(1.5, rng.Uniform(0.01, 0.06) * minDim);
            double cx = rng.Uniform(0, w), cy = rng.Uniform(0, h);
            double aspect = rng.Uniform(0.7, 1.3);
            double psi = rng.Uniform(0, Math.PI);
            var ha = new double[5]; var hb = new double[5];
            double wob = 0;
            for (int m = 2; m <= 4; m++) { ha[m] = rng.Uniform(-0.05, 0.05); hb[m] = rng.Uniform(-0.05, 0.05); wob += Math.Abs(ha[m]) + Math.Abs(hb[m]); }
            double k = rng.Uniform(0.2, 0.5);
            double beta = rng.Uniform(0.02, 0.1);
            double bright = rng.Uniform(1.0, 1.3);
            double gamma = rng.Uniform(0.2, 0.5);
            double sigmaA = rng.Uniform(0.05, 0.15) * r;
            drops.Add(new SynthParams().Set("cx", cx).Set("cy", cy).Set("r", r).Set("aspect", aspect).Set("angle", psi)
                .Set("k", k).Set("beta", beta).Set("brightness", bright).Set("rim", gamma).Set("edge_sigma", sigmaA));

            double sa = Math.Sqrt(aspect);
            double extent = r * Math.Max(sa, 1 / sa) * (1 + wob) + 3 * sigmaA + 3;
            int x0 = (int)Math.Floor(cx - extent), x1 = (int)Math.Ceiling(cx + extent);
            int y0 = (int)Math.Floor(cy - extent), y1 = (int)Math.Ceiling(cy + extent);
            int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
            double cp = DMath.Cos(psi), sp = DMath.Sin(psi);
            var inside = new float[bw * bh];
            var refr = new float[3 * bw * bh];
            double rimW = 0.1 * r;
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
                    for (int c = 0; c < 3; c++)
                    {
                        float v = ImageOps.Bilinear(blurred.Plane(c), w, h, sx - 0.5, sy - 0.5);
                        refr[c * bw * bh + li] = (float)Math.Min(1.0, v * bright * rim);
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
                    float a = alpha[li];
                    if (a <= 0) continue;
                    int gi = y * w + x;
                    for (int c = 0; c < 3; c++)
                        o.Data[c * n + gi] = (1 - a) * o.Data[c * n + gi] + a * refr[c * bw * bh + li];
                    if (a > alphaAll[gi]) alphaAll[gi] = a;
                }
            }
        }
        var mask = new float[n];
        for (int i = 0; i < n; i++) mask[i] = alphaAll[i] > 0.5f ? 1f : 0f;
        var p = new SynthParams().Set("kind", "raindrop").Set("defocus_sigma", defocus).Set("count", count).Set("drops", drops);
        return new DegradedPair(o, clean, mask, alphaAll, p);
    }
}
