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

    static RgbImage SkyOverGround(int w, int h, float[] sky, float ground, int skyRows)
    {
        // a strip of sky over a darker ground: the sky is the brightest part of the picture
        var img = new RgbImage(w, h);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) img.Data[(c * h + y) * w + x] = y < skyRows ? sky[c] : ground;
        return img;
    }

    [Fact]
    public void Milk_takes_the_hue_of_the_brightest_part_of_the_picture_in_the_share_asked()
    {
        var scene = SkyOverGround(100, 100, [0.5f, 0.7f, 1.0f], 0.3f, 10);
        var sky = RaindropSynth.MilkColour(scene, 0.8, skyShare: 1, cool: 0);
        Assert.Equal(0.8 * 0.5, sky[0], 5);   // the sky's hue with its largest channel at the milk's level
        Assert.Equal(0.8 * 0.7, sky[1], 5);
        Assert.Equal(0.8, sky[2], 5);
        var grey = RaindropSynth.MilkColour(scene, 0.8, skyShare: 0, cool: 0);
        Assert.All(grey, v => Assert.Equal(0.8, v, 5));
        var half = RaindropSynth.MilkColour(scene, 0.8, skyShare: 0.5, cool: 0);
        Assert.Equal(0.8 * 0.75, half[0], 5);
    }

    [Fact]
    public void Cooling_lowers_red_and_half_as_much_green_and_warming_the_reverse()
    {
        var scene = SkyOverGround(100, 100, [0.9f, 0.9f, 0.9f], 0.2f, 10);   // a white sky: no hue of its own
        var cool = RaindropSynth.MilkColour(scene, 1.0, skyShare: 1, cool: 0.1);
        Assert.Equal(0.9, cool[0], 5);
        Assert.Equal(0.95, cool[1], 5);
        Assert.Equal(1.0, cool[2], 5);
        var warm = RaindropSynth.MilkColour(scene, 0.9, skyShare: 0, cool: -0.05);
        Assert.Equal(0.945, warm[0], 5);   // clamped to [0, 1] only where it leaves the range
        Assert.True(warm[0] > warm[1] && warm[1] > warm[2]);
    }

    [Fact]
    public void Under_a_blue_sky_milky_drops_over_grey_ground_lean_blue()
    {
        // what the real raindrop photographs show: drops in front of grey or green things look bluish-white. The sky
        // is a thin strip at the top of a 480 px picture and only the bottom third is looked at, farther from the
        // sky than any drop's lens sees (about 3 radii of at most 50 px): blue there comes from the milk alone
        const int w = 200, h = 480, skyRows = 15;
        var clean = SkyOverGround(w, h, [0.55f, 0.7f, 0.95f], 0.35f, skyRows);
        int n = w * h, pixels = 0;
        double blue = 0, red = 0;
        for (int i = 0; i < 30; i++)
        {
            var p = RaindropSynth.Apply(clean, SynthRng.ForItem(11, i));
            if ((double)p.Params["milk"]! < 0.2) continue;
            for (int y = 320; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int j = y * w + x;
                    if (p.Soft![j] < 0.5f) continue;
                    red += p.Input.Data[j] - clean.Data[j];
                    blue += p.Input.Data[2 * n + j] - clean.Data[2 * n + j];
                    pixels++;
                }
        }
        Assert.True(pixels > 1000, $"only {pixels} drop pixels");
        Assert.True(blue > 1.2 * red + 0.01 * pixels, $"excess light under the drops: blue {blue:F1}, red {red:F1}");
    }
}
