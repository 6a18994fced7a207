using MemoryNet.Data;
using MemoryNet.Data.Synthesis;
using MemoryNet.Imaging;

namespace MemoryNet.Tests.Training;

public class SynthSourceTests
{
    static string PhotoFolder(int size)
    {
        var dir = TestPaths.TempDir();
        var px = new float[size * size * 3];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                for (int c = 0; c < 3; c++)
                    px[(y * size + x) * 3 + c] = (float)(0.45 + 0.35 * Math.Sin(0.11 * x + 0.07 * y + 2 * c));
        ImageCodec.Write(new ImageData(size, size, 3, 8, px), Path.Combine(dir, "photo.png"));
        return dir;
    }

    [Fact]
    public void CropPlanar_takes_the_same_window_of_every_plane()
    {
        int size = 5, p = 2;
        var src = Enumerable.Range(0, 2 * size * size).Select(i => (float)i).ToArray();
        var dst = SynthSource.CropPlanar(src, 2, size, 3, 1, p);
        // plane 0 rows 1..2, columns 3..4; plane 1 the same window offset by 25
        Assert.Equal([8f, 9f, 13f, 14f, 33f, 34f, 38f, 39f], dst);
    }

    [Fact]
    public void Patches_are_cut_from_a_scene_degraded_at_the_scene_size_and_are_deterministic()
    {
        var dir = PhotoFolder(96);
        var src = SynthSource.Create("shadow", dir, sceneSize: 64);
        var a = src.Make(0, 32, SynthRng.ForItem(7, 3));
        var b = src.Make(0, 32, SynthRng.ForItem(7, 3));
        Assert.Equal(32, a.Size);
        Assert.Equal(3 * 32 * 32, a.Input.Length);
        Assert.Equal(32 * 32, a.Mask!.Length);
        Assert.Equal(a.Input, b.Input);
        Assert.Equal(a.Mask, b.Mask);
        // a scene that the photo cannot hold is refused with the photo named, not silently shrunk
        var tooBig = SynthSource.Create("shadow", dir, sceneSize: 128);
        var ex = Assert.Throws<UserInputException>(() => tooBig.Make(0, 32, SynthRng.ForItem(7, 3)));
        Assert.Contains("usable", ex.Message);
    }

    /// <summary>A horizontal ramp 0→1 across the photo: a scene's clean range (max − min) is the fraction of the
    /// photo's width its window spans, whatever dihedral transform the patch got.</summary>
    [Fact]
    public void Synth_zoom_cuts_scenes_at_random_scales_with_more_detail()
    {
        var dir = TestPaths.TempDir();
        int size = 256;
        var px = new float[size * size * 3];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                for (int c = 0; c < 3; c++) px[(y * size + x) * 3 + c] = x / (float)(size - 1);
        ImageCodec.Write(new ImageData(size, size, 3, 8, px), Path.Combine(dir, "ramp.png"));
        double[] Ranges(double zoom)
        {
            var src = SynthSource.Create("shadow", dir, sceneSize: 32, zoom: zoom);
            return Enumerable.Range(0, 24).Select(i => src.Make(0, 32, SynthRng.ForItem(5, i)).Target)
                .Select(t => (double)(t.Max() - t.Min())).ToArray();
        }
        // zoom 1: the photo is kept at 1.75 × 32 = 56 px, every scene spans 32/56 of it
        Assert.All(Ranges(1), r => Assert.InRange(r, 0.52, 0.6));
        // zoom 4: kept at 224 px; windows of 32–128 px span 0.14–0.57 of it, spread over that interval
        var zoomed = Ranges(4);
        Assert.All(zoomed, r => Assert.InRange(r, 0.12, 0.6));
        Assert.True(zoomed.Min() < 0.25 && zoomed.Max() > 0.4, string.Join(", ", zoomed.Select(r => r.ToString("F2"))));
        var again = SynthSource.Create("shadow", dir, sceneSize: 32, zoom: 4).Make(0, 32, SynthRng.ForItem(5, 3));
        Assert.Equal(again.Input,
            SynthSource.Create("shadow", dir, sceneSize: 32, zoom: 4).Make(0, 32, SynthRng.ForItem(5, 3)).Input);
    }

    [Fact]
    public void Synth_clean_leaves_that_fraction_of_samples_undegraded_and_the_others_as_they_were()
    {
        var dir = PhotoFolder(96);
        var plain = SynthSource.Create("shadow", dir, sceneSize: 64);
        var half = SynthSource.Create("shadow", dir, sceneSize: 64, cleanFraction: 0.5);
        int clean = 0, degraded = 0;
        for (int i = 0; i < 40; i++)
        {
            var p = plain.Make(0, 32, SynthRng.ForItem(11, i));
            var h = half.Make(0, 32, SynthRng.ForItem(11, i));
            Assert.Equal(p.Target, h.Target);
            // a patch may miss the scene's shadow (a building's edge, a pole elsewhere): count those the plain source
            // degraded
            bool plainDegraded = !p.Input.SequenceEqual(p.Target);
            if (plainDegraded) degraded++;
            if (h.Input.SequenceEqual(h.Target))
            {
                if (plainDegraded) clean++; Assert.All(h.Mask!, m => Assert.Equal(0f, m));
            }
            else { Assert.Equal(p.Input, h.Input); Assert.Equal(p.Mask, h.Mask); }
        }
        Assert.True(degraded >= 30, $"{degraded} of 40 patches degraded");
        Assert.InRange(clean, degraded / 4, 3 * degraded / 4);
        Assert.Throws<UserInputException>(() => SynthSource.Create("shadow", dir, cleanFraction: 1));
    }

    [Fact]
    public void Synth_gamma_changes_the_exposure_of_clean_scenes_within_its_range()
    {
        var dir = TestPaths.TempDir();
        int size = 96;
        var px = Enumerable.Repeat(0.5f, size * size * 3).ToArray();
        ImageCodec.Write(new ImageData(size, size, 3, 8, px), Path.Combine(dir, "grey.png"));
        float grey = 128 / 255f;
        double[] Levels(double gamma) => Enumerable.Range(0, 30)
            .Select(i => (double)SynthSource.Create("shadow", dir, sceneSize: 64, gamma: gamma)
                .Make(0, 32, SynthRng.ForItem(3, i)).Target.Average())
            .ToArray();
        Assert.All(Levels(1), l => Assert.Equal(grey, l, 4));
        // powers in [1/2, 2]: grey^2 = 0.25 … grey^0.5 = 0.71, spread over that interval
        var g = Levels(2);
        Assert.All(g, l => Assert.InRange(l, Math.Pow(grey, 2) - 1e-4, Math.Pow(grey, 0.5) + 1e-4));
        Assert.True(g.Min() < 0.4 && g.Max() > 0.6, string.Join(", ", g.Select(l => l.ToString("F2"))));
    }

    [Fact]
    public void A_scene_size_below_8_is_refused()
    {
        Assert.Throws<UserInputException>(() => SynthSource.Create("rain", PhotoFolder(64), sceneSize: 4));
    }
}
