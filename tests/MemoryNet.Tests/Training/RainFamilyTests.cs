using MemoryNet.Data.Synthesis;

namespace MemoryNet.Tests.Training;

/// <summary>The rain family: many kinds of rain from one seed stream, each only brightening the photo.</summary>
public class RainFamilyTests
{
    static RgbImage Grey(int w, int h, float v)
    {
        var img = new RgbImage(w, h);
        Array.Fill(img.Data, v);
        return img;
    }

    static List<DegradedPair> Draw(int count, int size, float level = 0.3f)
    {
        var clean = Grey(size, size, level);
        return Enumerable.Range(0, count).Select(i => RainSynth.Rain(clean, SynthRng.ForItem(11, i))).ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1000)]
    [InlineData(77_777)]
    public void Quantile_is_the_value_of_that_rank_in_sorted_order(int n)
    {
        // selection instead of a sort must give exactly the sorted array's element (the generators' outputs depend on
        // it), also with many equal values (levels clip to 0 and 1)
        var rng = new SynthRng((ulong)n);
        foreach (int distinct in new[] { 2, 50, 1 << 20 })
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = rng.Int(0, distinct) / (float)distinct;
            var sorted = v.OrderBy(x => x).ToArray();
            foreach (double q in new[] { 0.0, 0.001, 0.25, 0.5, 0.9, 0.999, 1.0 })
                Assert.Equal(sorted[(int)Math.Round(q * (n - 1))], ImageOps.Quantile(v, q));
        }
    }

    [Fact]
    public void Rain_only_brightens_and_is_deterministic_for_the_generator()
    {
        var clean = Grey(96, 80, 0.3f);
        var a = RainSynth.Rain(clean, SynthRng.ForItem(5, 2));
        var b = RainSynth.Rain(clean, SynthRng.ForItem(5, 2));
        Assert.Equal(a.Input.Data, b.Input.Data);
        Assert.Same(clean, a.Target);
        Assert.All(a.Input.Data, v => Assert.InRange(v, 0.3f - 1e-6f, 1f));
        Assert.True(a.Input.Data.Max() > 0.35f, "some rain must show");
    }

    [Fact]
    public void Samples_span_one_to_three_layers_both_blends_and_a_veil_on_some()
    {
        var pairs = Draw(60, 64);
        var layers = pairs.Select(p => ((System.Collections.ICollection)p.Params["layers"]!).Count).ToList();
        Assert.Equal([1, 2, 3], layers.Distinct().Order());
        var blends = pairs.Select(p => (string)p.Params["blend"]!).ToHashSet();
        Assert.Equal(["add", "screen"], blends.Order());
        int veiled = pairs.Count(p => p.Params["veil_alpha"] is not null);
        Assert.InRange(veiled, 5, 30);   // a quarter of 60, give or take
    }

    /// <summary>Streaks are measured in pixels of a ~500 px image: a 128 px training crop carries streaks as long as a
    /// 481×321 benchmark image does, not halved with the crop (the former recipe scaled lengths by
    /// size/500).</summary>
    [Fact]
    public void Streak_lengths_do_not_shrink_with_the_crop()
    {
        // the first layer's: later layers follow a noise field of the image's size in the generator's stream
        static List<double> Lengths(IEnumerable<DegradedPair> pairs) => pairs
            .Select(p => (double)((List<SynthParams>)p.Params["layers"]!)[0]["length_px"]!).ToList();
        var small = Lengths(Draw(40, 128));
        var bench = Lengths(Draw(40, 480));
        Assert.Equal(small, bench);           // same draws at 128 and 480 px
        Assert.True(small.Max() > 40 && small.Min() < 10,
            $"lengths {small.Min():F1}..{small.Max():F1} px must span short and long streaks");
        var large = Lengths(Draw(4, 1000));
        Assert.Equal(2.0, large[0] / small[0], 6);   // a 1000 px image doubles them
    }

    [Fact]
    public void Streak_direction_follows_the_drawn_angle()
    {
        // a single-layer vertical-ish streak field: the vertical variation is far smaller than the horizontal one
        var rng = new SynthRng(3);
        var s = RainSynth.StreakLayer(128, 128, rng, density: 0.02, length: 30, angleDeg: 0);
        double dx = 0, dy = 0;
        for (int y = 1; y < 128; y++)
            for (int x = 1; x < 128; x++)
            {
                dx += Math.Abs(s[y * 128 + x] - s[y * 128 + x - 1]);
                dy += Math.Abs(s[y * 128 + x] - s[(y - 1) * 128 + x]);
            }
        Assert.True(dx > 4 * dy, $"horizontal variation {dx:F0} vs vertical {dy:F0}");
    }

    /// <summary>Structure-tensor coherence of the rain layer (input − target, channel mean): 1 when every streak is
    /// parallel (tools/rain_stats.py measures benchmarks the same way).</summary>
    static double Coherence(DegradedPair p)
    {
        int w = p.Input.Width, h = p.Input.Height;
        var r = new double[w * h];
        for (int c = 0; c < 3; c++)
        {
            var a = p.Input.Plane(c);
            var b = p.Target.Plane(c);
            for (int i = 0; i < r.Length; i++) r[i] += (a[i] - b[i]) / 3.0;
        }
        double j11 = 0, j22 = 0, j12 = 0;
        for (int y = 1; y < h - 1; y++)
            for (int x = 1; x < w - 1; x++)
            {
                double gx = r[y * w + x + 1] - r[y * w + x - 1], gy = r[(y + 1) * w + x] - r[(y - 1) * w + x];
                j11 += gx * gx; j22 += gy * gy; j12 += gx * gy;
            }
        return Math.Sqrt((j22 - j11) * (j22 - j11) + 4 * j12 * j12) / (j11 + j22 + 1e-12);
    }

    static double Median(IEnumerable<double> v)
    {
        var s = v.Order().ToArray();
        return s[s.Length / 2];
    }

    [Fact]
    public void The_fine_style_makes_parallel_screen_blended_streaks_in_at_most_two_layers()
    {
        var pairs = Draw(60, 128);
        var fine = pairs.Where(p => (string)p.Params["style"]! == "fine").ToList();
        var wide = pairs.Where(p => (string)p.Params["style"]! == "wide").ToList();
        Assert.InRange(fine.Count, 12, 36);   // 40 % of 60, give or take
        Assert.All(fine, p => Assert.Equal("screen", (string)p.Params["blend"]!));
        Assert.All(fine, p => Assert.InRange(((List<SynthParams>)p.Params["layers"]!).Count, 1, 2));
        Assert.All(fine, p => Assert.All((List<SynthParams>)p.Params["layers"]!,
            l => Assert.InRange((double)l["speck_sigma"]!, 0.45, 0.9)));
        double cf = Median(fine.Select(Coherence)), cw = Median(wide.Select(Coherence));
        Assert.True(cf > cw + 0.05, $"median coherence: fine {cf:F3}, wide {cw:F3}");
    }
}
