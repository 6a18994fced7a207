using MemoryNet.Data.Synthesis;

namespace MemoryNet.Tests.Training;

/// <summary>The shadow family: many kinds of occluder, penumbrae from hard to soft, never brightening.</summary>
public class ShadowFamilyTests
{
    static RgbImage Texture(int size)
    {
        var img = new RgbImage(size, size);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    img.Data[(c * size + y) * size + x] =
                        (float)(0.5 + 0.3 * Math.Sin(0.3 * x + c) * Math.Cos(0.2 * y));
        return img;
    }

    [Fact]
    public void Every_occluder_kind_occurs_and_no_shadow_brightens_a_pixel()
    {
        var clean = Texture(96);
        var shapes = new HashSet<string>();
        for (int i = 0; i < 60; i++)
        {
            var pair = ShadowSynth.Apply(clean, SynthRng.ForItem(3, i));
            shapes.Add((string)pair.Params["matte"]!);
            for (int k = 0; k < clean.Data.Length; k++) Assert.True(pair.Input.Data[k] <= clean.Data[k] + 1e-6f);
            double cov = pair.Mask!.Average();
            Assert.True(cov is > 0.005 and < 0.8, $"pair {i} ({pair.Params["matte"]}): mask covers {cov:P1}");
            // darker exactly where the matte is
            int px = clean.PlaneSize;
            double inside = 0, outside = 0; int ni = 0, no = 0;
            for (int k = 0; k < px; k++)
            {
                double d = clean.Data[px + k] - pair.Input.Data[px + k];
                if (pair.Soft![k] > 0.9f) { inside += d; ni++; } else if (pair.Soft[k] < 0.01f) { outside += d; no++; }
            }
            if (ni > 0 && no > 0) Assert.True(inside / ni > outside / no);
        }
        Assert.Equal(["branches", "edge", "noise", "poles", "polygons"], shapes.Order());
    }

    [Fact]
    public void The_penumbra_is_harder_on_one_side_than_on_the_other()
    {
        var clean = Texture(128);
        int checkedPairs = 0;
        for (int i = 0; i < 80 && checkedPairs < 5; i++)
        {
            var pair = ShadowSynth.Apply(clean, SynthRng.ForItem(12, i));
            var s = (double[])pair.Params["penumbra_sigma"]!;
            if (s[1] < 3 * s[0] || s[1] > 19) continue;
            checkedPairs++;
            Assert.True(s[1] > s[0]);
            // the drawn sigmas are recorded, and a soft side exists: partial matte values cover more than a hard edge
            // would
            int partial = pair.Soft!.Count(v => v > 0.05f && v < 0.95f);
            Assert.True(partial > 128, $"pair {i}: {partial} penumbra pixels");
        }
        Assert.True(checkedPairs > 0);
    }
}
