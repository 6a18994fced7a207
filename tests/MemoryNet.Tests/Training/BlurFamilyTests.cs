using MemoryNet.Data.Synthesis;
using MemoryNet.Imaging;

namespace MemoryNet.Tests.Training;

/// <summary>The blur family: warps, trajectories and measured kernels in linear light, then noise and JPEG.</summary>
public class BlurFamilyTests
{
    static RgbImage Flat(int size, float v)
    {
        var img = new RgbImage(size, size);
        Array.Fill(img.Data, v);
        return img;
    }

    /// <summary>Vertical stripes, half a period <paramref name="light"/> and half <paramref name="dark"/>.</summary>
    static RgbImage Stripes(int size, int period, float dark, float light)
    {
        var img = Flat(size, dark);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x += period)
                    for (int k = 0; k < period / 2; k++) img.Data[(c * size + y) * size + x + k] = light;
        return img;
    }

    /// <summary>A 1×9 horizontal line kernel written as kernels.json.</summary>
    static string LineKernelFolder()
    {
        var dir = TestPaths.TempDir();
        File.WriteAllText(Path.Combine(dir, "kernels.json"),
            """{"line": {"size": [1, 9], "values": [1, 1, 1, 1, 1, 1, 1, 1, 1]}, "dot": {"size": """ +
                """[1, 1], "values": [3]}}""");
        return dir;
    }

    [Fact]
    public void Measured_kernels_are_normalised_turned_and_rescaled()
    {
        var bank = BlurKernelBank.Load(LineKernelFolder());
        Assert.Equal(["dot", "line"], bank.Kernels.Select(k => k.Name));
        Assert.Equal(1.0, bank.Kernels[1].Values.Sum(), 5);
        var flat = bank.Taps(1, 0, 1, 64);
        Assert.Equal(1.0, flat.Sum(t => t.W), 5);
        Assert.All(flat, t => Assert.Equal(0, t.Dy));
        Assert.Equal(8, flat.Max(t => t.Dx) - flat.Min(t => t.Dx));
        var turned = bank.Taps(1, 4, 1, 64);                  // transposed: a vertical line
        Assert.All(turned, t => Assert.Equal(0, t.Dx));
        var doubled = bank.Taps(1, 0, 2, 64);
        Assert.Equal(16, doubled.Max(t => t.Dx) - doubled.Min(t => t.Dx));
        var capped = bank.Taps(1, 0, 20, 13);                 // never wider than the canvas allows
        Assert.True(capped.Max(t => t.Dx) - capped.Min(t => t.Dx) <= 12);
    }

    [Fact]
    public void A_kernel_folder_of_greyscale_images_loads_and_a_bad_list_is_refused_naming_the_file()
    {
        var dir = TestPaths.TempDir();
        var px = new float[5 * 5];
        px[12] = 1; px[13] = 0.5f;
        ImageCodec.Write(new ImageData(5, 5, 1, 8, px), Path.Combine(dir, "k.png"));
        var bank = BlurKernelBank.Load(dir);
        Assert.Equal(2.0, bank.Kernels[0].Values[12] / bank.Kernels[0].Values[13], 1);

        var bad = TestPaths.TempDir();
        File.WriteAllText(Path.Combine(bad, "kernels.json"), """{"k": {"size": [2, 2], "values": [1, 2, 3]}}""");
        var ex = Assert.Throws<UserInputException>(() => BlurKernelBank.Load(bad));
        Assert.Contains("kernels.json", ex.Message);
    }

    [Fact]
    public void The_family_uses_every_method_and_measured_kernels_only_when_given()
    {
        var scene = Flat(96, 0.5f);
        for (int i = 0; i < scene.Data.Length; i += 7) scene.Data[i] = 0.9f;
        var bank = BlurKernelBank.Load(LineKernelFolder());
        var with = Enumerable.Range(0, 40).Select(i => BlurSynth.Apply(scene, SynthRng.ForItem(1, i), bank).Params)
            .ToList();
        var without = Enumerable.Range(0, 40).Select(i => BlurSynth.Apply(scene, SynthRng.ForItem(1, i)).Params)
            .ToList();
        Assert.Equal(["gopro", "kernel", "none", "trajectory"],
            with.Select(p => (string)p["method"]!).Distinct().Order());
        Assert.Equal(["gopro", "none", "trajectory"], without.Select(p => (string)p["method"]!).Distinct().Order());
        Assert.Contains(with, p => p["jpeg_quality"] is not null);
        Assert.Contains(with, p => p["jpeg_quality"] is null);
        Assert.Contains(with, p => p["highlight_gain"] is not null);
    }

    [Fact]
    public void A_tenth_of_the_pictures_stay_sharp_with_only_the_cameras_noise_and_jpeg()
    {
        // fine stripes: any blur of the family flattens them, a sharp pair keeps them and differs from its target
        // only by noise and compression; raised highlights would make a sharp target's bright stripes a lie
        var scene = Stripes(128, 4, 0.2f, 0.8f);
        var bank = BlurKernelBank.Load(LineKernelFolder());
        var pairs = Enumerable.Range(0, 300).Select(i => BlurSynth.Apply(scene, SynthRng.ForItem(12, i), bank))
            .ToList();
        var sharp = pairs.Where(p => (string)p.Params["method"]! == "none").ToList();
        Assert.InRange(sharp.Count, 15, 50);
        static double Rmse(DegradedPair p) =>
            Math.Sqrt(p.Input.Data.Zip(p.Target.Data, (a, b) => (double)(a - b) * (a - b)).Average());
        Assert.All(sharp, p =>
        {
            Assert.Null(p.Params["highlight_gain"]);
            Assert.True(Rmse(p) < 0.06, $"sharp pair {Rmse(p):F3} from its target");
        });
        Assert.Contains(sharp, p => p.Params["jpeg_quality"] is not null);
        double blurred = pairs.Where(p => (string)p.Params["method"]! != "none").Average(Rmse);
        Assert.True(blurred > 0.15, $"blurred pairs {blurred:F3} from their targets");
    }

    [Fact]
    public void Blurring_keeps_a_flat_scene_at_its_level_and_the_target_is_the_sharp_centre()
    {
        // kernels sum to 1 in linear light and the noise has zero mean: a flat grey stays that grey on average
        var scene = Flat(128, 0.4f);
        for (int i = 0; i < 20; i++)
        {
            var pair = BlurSynth.Apply(scene, SynthRng.ForItem(6, i));
            Assert.Equal(64, pair.Input.Width);
            Assert.All(pair.Target.Data, v => Assert.Equal(0.4f, v));
            Assert.InRange(pair.Input.Data.Average(), 0.39, 0.41);
        }
    }

    [Fact]
    public void Raised_highlights_spread_into_clipped_streaks()
    {
        // a small lamp on a dark scene: where the family raises highlights, the blurred lamp still clips at white
        var scene = Flat(128, 0.05f);
        for (int y = 62; y < 66; y++)
            for (int x = 62; x < 66; x++)
                for (int c = 0; c < 3; c++) scene.Data[(c * 128 + y) * 128 + x] = 1f;
        int raisedWhite = 0, plainWhite = 0, raised = 0, plain = 0;
        for (int i = 0; i < 60; i++)
        {
            var pair = BlurSynth.Apply(scene, SynthRng.ForItem(8, i));
            if ((string)pair.Params["method"]! != "trajectory" && (string)pair.Params["method"]! != "gopro") continue;
            int white = pair.Input.Data.Count(v => v > 0.97f);
            if (pair.Params["highlight_gain"] is not null) { raised++; raisedWhite += white; }
            else { plain++; plainWhite += white; }
        }
        Assert.True(raised > 5 && plain > 5);
        Assert.True(raisedWhite / (double)raised > 3 * (plainWhite / (double)plain + 1),
            $"white pixels per image: raised {raisedWhite / (double)raised:F1}, plain {plainWhite / (double)plain:F1}");
    }
    [Fact]
    public void The_camera_response_varies_so_that_blur_brightens_some_pictures_and_not_others()
    {
        // fine black-and-white stripes: averaged in linear light their blur is brighter than their mean, averaged in
        // the encoded values (gamma 1) it keeps the mean; a family with one response teaches a fixed darkening
        var scene = Stripes(128, 8, 0.05f, 0.95f);
        var pairs = Enumerable.Range(0, 160).Select(i => BlurSynth.Apply(scene, SynthRng.ForItem(9, i))).ToList();
        var gammas = pairs.Select(p => (double)p.Params["gamma"]!).ToList();
        Assert.InRange(gammas.Count(g => g == 2.2), 30, 80); // a third in linear light
        Assert.InRange(gammas.Count(g => g == 1), 30, 80);   // a third in the encoded values, as GoPro's `blur`
        Assert.All(gammas, g => Assert.InRange(g, 1.0, 2.2));
        var plain = pairs.Where(p => p.Params["highlight_gain"] is null)
            .Select(p => (Gamma: (double)p.Params["gamma"]!,
                Brighter: p.Input.Data.Average() - p.Target.Data.Average()))
            .ToList();
        var encoded = plain.Where(p => p.Gamma < 1.3).ToList();
        var linear = plain.Where(p => p.Gamma == 2.2).ToList();
        Assert.True(encoded.Count >= 5, $"{encoded.Count} pairs near gamma 1");
        double nearOne = encoded.Average(p => p.Brighter), inLinear = linear.Average(p => p.Brighter);
        Assert.True(inLinear > 0.04 && nearOne < inLinear / 2,
            $"mean brightening: gamma < 1.3 {nearOne:F3}, gamma 2.2 {inLinear:F3}");
    }

    [Fact]
    public void Most_shake_is_mild_and_some_is_heavy()
    {
        // the warps' half path length is log-uniform in 1–24 px: under 4 px on about 44 % of them (uniform 2–24
        // gave 9 %); a family of mostly heavy blur taught the network to sharpen every soft edge
        var scene = Flat(96, 0.5f);
        var shifts = Enumerable.Range(0, 150).Select(i => BlurSynth.Apply(scene, SynthRng.ForItem(11, i)).Params)
            .Where(p => (string)p["method"]! == "gopro")
            .Select(p => (double[])p["translation_px"]!).Select(t => Math.Sqrt(t[0] * t[0] + t[1] * t[1])).ToList();
        Assert.True(shifts.Count >= 40, $"{shifts.Count} warps");
        double mild = shifts.Count(t => t < 4) / (double)shifts.Count;
        Assert.True(mild is > 0.3 and < 0.6, $"{mild:P0} of the warps under 4 px");
        Assert.Contains(shifts, t => t > 12);
    }

    /// <summary>Pieces (8-connected) of the pixels above <paramref name="t"/>.</summary>
    static int Pieces(float[] plane, int w, int h, float t)
    {
        var seen = new bool[w * h];
        int pieces = 0;
        var stack = new Stack<int>();
        for (int i = 0; i < w * h; i++)
        {
            if (seen[i] || plane[i] <= t) continue;
            pieces++;
            seen[i] = true;
            stack.Push(i);
            while (stack.Count > 0)
            {
                int j = stack.Pop(), x = j % w, y = j / w;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx, ny = y + dy, k = ny * w + nx;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h || seen[k] || plane[k] <= t) continue;
                        seen[k] = true;
                        stack.Push(k);
                    }
            }
        }
        return pieces;
    }

    [Fact]
    public void Warps_with_a_frame_exposure_draw_one_streak_and_instantaneous_warps_draw_copies()
    {
        // a 2×2 light on black, blurred along the warps' paths: frames exposed over part of their interval join into
        // one streak, as a camera's blur does; instantaneous frames far apart leave separate copies (GoPro's ghosts)
        const int size = 96 + 2 * BlurSynth.Margin;
        var scene = Flat(size, 0);
        for (int y = size / 2; y < size / 2 + 2; y++)
            for (int x = size / 2; x < size / 2 + 2; x++)
                for (int c = 0; c < 3; c++) scene.Data[(c * size + y) * size + x] = 1;
        int exposed = 0, ghosted = 0, farApart = 0;
        for (int i = 0; i < 80; i++)
        {
            var p = new SynthParams();
            var blurred = BlurSynth.GoProBlur(scene, SynthRng.ForItem(12, i), p);
            int pieces = Pieces(blurred.Plane(0).ToArray(), 96, 96, 1e-4f);
            double duty = (double)p["frame_exposure"]!;
            var t = (double[])p["translation_px"]!;
            double step = 2 * Math.Sqrt(t[0] * t[0] + t[1] * t[1]) / ((int)p["frames"]! - 1);
            Assert.InRange((int)p["samples"]!, (int)p["frames"]!, BlurSynth.MaxWarpSamples);
            if (duty > 0) { exposed++; Assert.True(pieces == 1, $"pair {i}: exposed frames in {pieces} pieces"); }
            else if (step > 4) { farApart++; if (pieces > 1) ghosted++; }
        }
        Assert.InRange(exposed, 25, 55);
        Assert.True(farApart >= 5 && ghosted >= farApart * 0.8, $"{ghosted} of {farApart} far-apart warps ghosted");
    }

    /// <summary>Every kernel's centroid lies on a whole pixel: a kernel off centre by a fraction of a pixel shifts the
    /// blurred picture by an amount the network cannot see.</summary>
    [Fact]
    public void Kernels_are_centred_to_a_fraction_of_a_pixel()
    {
        static (double X, double Y) Centroid(List<ImageOps.Tap> taps) =>
            (taps.Sum(t => t.W * t.Dx), taps.Sum(t => t.W * t.Dy));
        for (int i = 0; i < 20; i++)
        {
            var rng = SynthRng.ForItem(3, i);
            var traj = BlurSynth.Trajectory(rng, out _);
            var (x, y) = Centroid(BlurSynth.Kernel(traj, BlurSynth.Exposures[i % 4], out _));
            Assert.True(Math.Abs(x) < 1e-4 && Math.Abs(y) < 1e-4, $"trajectory {i}: centroid ({x}, {y})");
        }
        var dir = TestPaths.TempDir();   // a lopsided ramp: its centroid falls between pixels at every scale
        File.WriteAllText(Path.Combine(dir, "kernels.json"),
            """{"ramp": {"size": [2, 5], "values": [1, 2, 3, 5, 8, 0, 1, 1, 2, 4]}}""");
        var bank = BlurKernelBank.Load(dir);
        foreach (var (scale, max) in new[] { (0.5, 64), (1.0, 64), (1.37, 64), (2.2, 64), (20.0, 13) })   // 13: capped
            for (int mode = 0; mode < 8; mode++)
            {
                var (x, y) = Centroid(bank.Taps(0, mode, scale, max));
                Assert.True(Math.Abs(x) < 1e-4 && Math.Abs(y) < 1e-4, $"scale {scale}, mode {mode}: ({x}, {y})");
            }
        // a kernel centred but for the float rounding of its weights (1/6 five steps left, 5/6 one step right: the
        // moments differ by 4.5e-8) keeps its two taps rather than a smear over neighbours
        var balanced = TestPaths.TempDir();
        File.WriteAllText(Path.Combine(balanced, "kernels.json"),
            """{"two": {"size": [1, 11], "values": [1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0]}}""");
        Assert.Equal(2, BlurKernelBank.Load(balanced).Taps(0, 0, 1, 64).Count);
    }
}
