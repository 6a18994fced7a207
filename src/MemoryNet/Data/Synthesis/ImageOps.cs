using System.Numerics;

namespace MemoryNet.Data.Synthesis;

/// <summary>Per-pixel helpers in plain float/double arithmetic (deterministic across machines).</summary>
public static class ImageOps
{
    /// <summary>Normalised 1-D Gaussian taps, radius ceil(3σ) (at least 1).</summary>
    public static float[] GaussianKernel(double sigma)
    {
        int radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var k = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++)
        {
            k[i + radius] = DMath.Exp(-(double)i * i / (2 * sigma * sigma)); sum += k[i + radius];
        }
        var f = new float[k.Length];
        for (int i = 0; i < k.Length; i++) f[i] = (float)(k[i] / sum);
        return f;
    }

    /// <summary>Separable Gaussian blur of one H×W plane, edges replicated. σ ≤ 0 returns a copy.</summary>
    public static float[] GaussianBlur(ReadOnlySpan<float> src, int w, int h, double sigma)
    {
        var dst = src.ToArray();
        if (sigma <= 0) return dst;
        var k = GaussianKernel(sigma);
        int r = k.Length / 2;
        var tmp = new float[w * h];
        for (int y = 0; y < h; y++)
        {
            int row = y * w;
            for (int x = 0; x < w; x++)
            {
                float acc = 0;
                for (int i = -r; i <= r; i++)
                {
                    int xx = x + i; if (xx < 0) xx = 0; else if (xx >= w) xx = w - 1;
                    acc += k[i + r] * src[row + xx];
                }
                tmp[row + x] = acc;
            }
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float acc = 0;
                for (int i = -r; i <= r; i++)
                {
                    int yy = y + i; if (yy < 0) yy = 0; else if (yy >= h) yy = h - 1;
                    acc += k[i + r] * tmp[yy * w + x];
                }
                dst[y * w + x] = acc;
            }
        return dst;
    }

    public static RgbImage GaussianBlur(RgbImage img, double sigma)
    {
        var r = new RgbImage(img.Width, img.Height);
        for (int c = 0; c < 3; c++) GaussianBlur(img.Plane(c), img.Width, img.Height, sigma).CopyTo(r.Plane(c));
        return r;
    }

    /// <summary>A sparse kernel: taps (dx, dy, weight).</summary>
    public readonly record struct Tap(int Dx, int Dy, float W);

    /// <summary>out(x, y) = Σ w · src(x − dx, y − dy) (a true convolution), edges replicated.</summary>
    public static float[] ConvolveSparse(ReadOnlySpan<float> src, int w, int h, IReadOnlyList<Tap> taps) =>
        ConvolveSparse(src, w, h, taps, 0, 0, w, h);

    /// <summary>The window (x0, y0, ow, oh) of that convolution: the crop of the whole result, at the cost of the
    /// window alone. Every output sums its taps in list order with a separate multiply and add, so the bits are the
    /// same whatever the machine's vector width.</summary>
    public static float[] ConvolveSparse(ReadOnlySpan<float> src, int w, int h, IReadOnlyList<Tap> taps,
        int x0, int y0, int ow, int oh)
    {
        var dst = new float[ow * oh];
        for (int y = 0; y < oh; y++)
        {
            // a row at a time: the row being summed stays in L1 across all the taps
            var row = dst.AsSpan(y * ow, ow);
            foreach (var t in taps)
            {
                var srow = src.Slice(Math.Clamp(y0 + y - t.Dy, 0, h - 1) * w, w);
                // output column x reads source column x0 + x − dx: inside the row for x in [a, b)
                int a = Math.Clamp(t.Dx - x0, 0, ow), b = Math.Clamp(w + t.Dx - x0, a, ow);
                float left = t.W * srow[0], right = t.W * srow[w - 1];
                for (int x = 0; x < a; x++) row[x] += left;
                if (b > a) AddScaled(row[a..b], srow.Slice(x0 + a - t.Dx, b - a), t.W);
                for (int x = b; x < ow; x++) row[x] += right;
            }
        }
        return dst;
    }

    /// <summary>dst[i] += k · src[i], rounded after the product and after the sum (never fused).</summary>
    static void AddScaled(Span<float> dst, ReadOnlySpan<float> src, float k)
    {
        int i = 0, n = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var kv = new Vector<float>(k);
            for (; i <= dst.Length - n; i += n)
            {
                var product = kv * new Vector<float>(src[i..]);
                (new Vector<float>(dst[i..]) + product).CopyTo(dst[i..]);
            }
        }
        for (; i < dst.Length; i++) dst[i] += k * src[i];
    }

    /// <summary>Where a bilinear sample at (x, y) reads, edges replicated: computed once, then applied to each
    /// plane of an image.</summary>
    public readonly struct BilinearTap
    {
        readonly int i00, i01, i10, i11;
        readonly float fx, fy;

        public BilinearTap(int w, int h, double x, double y)
        {
            if (x < 0) x = 0; else if (x > w - 1) x = w - 1;
            if (y < 0) y = 0; else if (y > h - 1) y = h - 1;
            int x0 = (int)x, y0 = (int)y;
            int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
            fx = (float)(x - x0); fy = (float)(y - y0);
            i00 = y0 * w + x0; i01 = y0 * w + x1; i10 = y1 * w + x0; i11 = y1 * w + x1;
        }

        public float Sample(ReadOnlySpan<float> p)
        {
            float a = p[i00] + fx * (p[i01] - p[i00]);
            float b = p[i10] + fx * (p[i11] - p[i10]);
            return a + fy * (b - a);
        }
    }

    /// <summary>Bilinear sample of a plane at (x, y), edges replicated.</summary>
    public static float Bilinear(ReadOnlySpan<float> p, int w, int h, double x, double y) =>
        new BilinearTap(w, h, x, y).Sample(p);

    /// <summary>Every sample raised to the power p (p &gt; 1 darkens the mid-tones, p &lt; 1 lightens them; 0 and 1
    /// stay).</summary>
    public static RgbImage Power(RgbImage src, double p)
    {
        var r = new RgbImage(src.Width, src.Height);
        float fp = (float)p;
        for (int i = 0; i < src.Data.Length; i++) r.Data[i] = MathF.Pow(Math.Clamp(src.Data[i], 0f, 1f), fp);
        return r;
    }

    /// <summary>Downscale by area averaging (exact box coverage): a good-quality, alias-free reduction.</summary>
    public static RgbImage ResizeArea(RgbImage src, int dw, int dh)
    {
        if (dw == src.Width && dh == src.Height) return src.Clone();
        if (dw > src.Width || dh > src.Height) throw new ArgumentException("ResizeArea only reduces");
        var hx = AreaWeights(src.Width, dw);
        var hy = AreaWeights(src.Height, dh);
        var r = new RgbImage(dw, dh);
        int sw = src.Width, sh = src.Height;
        var tmp = new float[dw * sh];
        for (int c = 0; c < 3; c++)
        {
            var s = src.Plane(c);
            for (int y = 0; y < sh; y++)
                for (int x = 0; x < dw; x++)
                {
                    var (start, ws) = hx[x];
                    float acc = 0;
                    for (int i = 0; i < ws.Length; i++) acc += ws[i] * s[y * sw + start + i];
                    tmp[y * dw + x] = acc;
                }
            var d = r.Plane(c);
            for (int y = 0; y < dh; y++)
            {
                var (start, ws) = hy[y];
                for (int x = 0; x < dw; x++)
                {
                    float acc = 0;
                    for (int i = 0; i < ws.Length; i++) acc += ws[i] * tmp[(start + i) * dw + x];
                    d[y * dw + x] = acc;
                }
            }
        }
        return r;
    }

    static (int Start, float[] W)[] AreaWeights(int n, int m)
    {
        var res = new (int, float[])[m];
        double scale = (double)n / m;
        for (int o = 0; o < m; o++)
        {
            double a = o * scale, b = (o + 1) * scale;
            int i0 = (int)Math.Floor(a), i1 = Math.Min(n, (int)Math.Ceiling(b));
            var w = new float[i1 - i0];
            for (int i = i0; i < i1; i++) w[i - i0] = (float)((Math.Min(b, i + 1) - Math.Max(a, i)) / scale);
            res[o] = (i0, w);
        }
        return res;
    }

    /// <summary>The q-quantile (0..1) of the values: the element of rank round(q·(n − 1)) in ascending order, found
    /// by selection on a copy (linear time; a full sort made the quantiles most of the rain generator's
    /// time).</summary>
    public static float Quantile(ReadOnlySpan<float> v, double q)
    {
        var a = v.ToArray();
        int k = (int)Math.Clamp(Math.Round(q * (a.Length - 1)), 0, a.Length - 1);
        return Select(a, k);
    }

    /// <summary>The element of rank <paramref name="k"/> (0-based, ascending) of <paramref name="a"/>, which is
    /// reordered (Hoare's quickselect with a median-of-three pivot).</summary>
    static float Select(float[] a, int k)
    {
        int lo = 0, hi = a.Length - 1;
        while (hi > lo)
        {
            int mid = lo + (hi - lo) / 2;
            if (a[mid] < a[lo]) (a[mid], a[lo]) = (a[lo], a[mid]);
            if (a[hi] < a[lo]) (a[hi], a[lo]) = (a[lo], a[hi]);
            if (a[hi] < a[mid]) (a[hi], a[mid]) = (a[mid], a[hi]);
            float pivot = a[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            // now a[lo..j] ≤ pivot ≤ a[i..hi], and a[j+1..i-1] equal the pivot
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }

    /// <summary>Splats a point bilinearly onto a grid.</summary>
    public static void Splat(double[] grid, int w, int h, double x, double y, double weight)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        void Add(int xx, int yy, double v) { if (xx >= 0 && yy >= 0 && xx < w && yy < h) grid[yy * w + xx] += v; }
        Add(x0, y0, weight * (1 - fx) * (1 - fy)); Add(x0 + 1, y0, weight * fx * (1 - fy));
        Add(x0, y0 + 1, weight * (1 - fx) * fy); Add(x0 + 1, y0 + 1, weight * fx * fy);
    }

    /// <summary>PSNR in dB between two images in [0, 1] (peak 1).</summary>
    public static double Psnr(RgbImage a, RgbImage b)
    {
        if (a.Width != b.Width || a.Height != b.Height) throw new ArgumentException("size mismatch");
        double se = 0;
        for (int i = 0; i < a.Data.Length; i++) { double d = a.Data[i] - b.Data[i]; se += d * d; }
        double mse = se / a.Data.Length;
        return mse <= 0 ? double.PositiveInfinity : 10 * Math.Log10(1.0 / mse);
    }
}
