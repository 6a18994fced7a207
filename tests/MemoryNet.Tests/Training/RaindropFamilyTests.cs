using MemoryNet.Data.Synthesis;

namespace MemoryNet.Tests.Training;

/// <summary>The raindrop family: many small defocused drops whose size follows the image, not the crop.</summary>
public class RaindropFamilyTests
{
    static RgbImage Stripes(int w, int h)
    {
        var img = new RgbImage(w, h);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) img.Data[(c * h + y) * w + x] = ((x / 8) % 2 == 0 ? 0.2f : 0.6f) + 0.1f * c;
        return img;
    }

    [Fact]
    public void Drops_change_the_photo_only_under_their_alpha_and_the_mask_is_the_alpha_above_a_half()
    {
        var clean = Stripes(160, 120);
        var a = RaindropSynth.Apply(clean, SynthRng.ForItem(9, 1));
        var b = RaindropSynth.Apply(clean, SynthRng.ForItem(9, 1));
        Assert.Equal(a.Input.Data, b.Input.Data);
        var soft = a.Soft!;
        int n = 160 * 120, changed = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(soft[i] > 0.5f ? 1f : 0f, a.Mask![i]);
            for (int c = 0; c < 3; c++)
            {
                float d = Math.Abs(a.Input.Data[c * n + i] - clean.Data[c * n + i]);
                if (soft[i] < 1e-6f) Assert.True(d < 1e-5f, $"pixel {i} changed by {d} outside every drop");
                else if (d > 1e-3f) changed++;
            }
        }
        Assert.True(changed > 0);
    }

    [Fact]
    public void Drop_count_follows_the_area_and_drop_size_the_image_not_the_crop()
    {
        var counts = new List<int>();
        for (int i = 0; i < 30; i++)
        {
            var small = RaindropSynth.Apply(Stripes(256, 256), SynthRng.ForItem(4, i));
            var bench = RaindropSynth.Apply(Stripes(480, 480), SynthRng.ForItem(4, i));
            var large = RaindropSynth.Apply(Stripes(960, 960), SynthRng.ForItem(4, i));
            double R(DegradedPair p) => (double)((List<SynthParams>)p.Params["drops"]!)[0]["r"]!;
            Assert.Equal(R(small), R(bench), 9);      // a 256 px crop draws the drops of a 480 px photo
            Assert.Equal(2 * R(bench), R(large), 9);  // a 960 px photo doubles them
            // same drops per photo-scaled area: 960² at scale 2 holds as many as 480²; 256² about 0.28 of that
            int cs = (int)small.Params["count"]!, cb = (int)bench.Params["count"]!, cl = (int)large.Params["count"]!;
            Assert.Equal(cb, cl);
            Assert.InRange(cs, 0.2 * cb, 0.36 * cb + 1);
            counts.Add(cb);
        }
        // dozens to hundreds of drops in a 480×480 picture, as real raindrop photographs show
        Assert.True(counts.Min() < 80 && counts.Max() > 250, $"counts {counts.Min()}..{counts.Max()}");
    }

    [Fact]
    public void Drops_cover_as_much_of_the_picture_as_real_raindrop_photographs_show()
    {
        // real raindrop photographs are covered by drops over a tenth to a half of the frame; a family whose median
        // picture has a few per cent teaches a network to leave pictures alone
        var cover = new List<double>();
        for (int i = 0; i < 30; i++)
            cover.Add(RaindropSynth.Apply(Stripes(256, 256), SynthRng.ForItem(6, i)).Mask!.Average());
        cover.Sort();
        double median = cover[cover.Count / 2];
        Assert.InRange(median, 0.08, 0.35);
        Assert.True(cover[^1] > 0.3, $"largest coverage {cover[^1]:P1}: no densely covered pictures");
    }

    [Fact]
    public void The_drop_layer_is_defocused()
    {
        // the focus blur spreads each drop's alpha: its edge has intermediate values over several pixels
        var clean = Stripes(200, 200);
        int soft = 0, hard = 0;
        for (int i = 0; i < 10; i++)
        {
            var a = RaindropSynth.Apply(clean, SynthRng.ForItem(2, i)).Soft!;
            soft += a.Count(v => v > 0.05f && v < 0.95f);
            hard += a.Count(v => v >= 0.95f);
        }
        Assert.True(soft > 2 * hard, $"{soft} partial-alpha pixels vs {hard} opaque ones");
    }
}
