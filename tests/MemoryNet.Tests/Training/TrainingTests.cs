using System.Text.Json.Nodes;
using MemoryNet.Architectures.Mpr;
using MemoryNet.Data.Synthesis;
using MemoryNet.Data;
using MemoryNet.Imaging;
using MemoryNet.Losses;
using MemoryNet.Training;
using MemoryNet.Weights;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Training;

public class LrScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenAnnealsToTheMinimum()
    {
        var s = new LrSchedule(2e-4, 1e-6, 10, 110);
        Assert.Equal(2e-5, s.At(0), 12);
        Assert.Equal(2e-4, s.At(9), 12);
        Assert.Equal(2e-4, s.At(10), 12);
        Assert.Equal(1e-6 + 0.5 * (2e-4 - 1e-6), s.At(60), 12);
        Assert.Equal(1e-6, s.At(110), 12);
        for (long i = 11; i < 110; i++) Assert.True(s.At(i) < s.At(i - 1));
    }
}

public class PatchTests
{
    [Fact]
    public void TheEightDihedralTransformsAreDistinctPermutations()
    {
        const int n = 4;
        var seen = new HashSet<string>();
        for (int mode = 0; mode < 8; mode++)
        {
            var cells = new HashSet<(int, int)>();
            var sig = new List<string>();
            for (int u = 0; u < n; u++)
                for (int v = 0; v < n; v++)
                {
                    var c = PatchSampler.Dihedral(mode, u, v, n);
                    cells.Add(c);
                    sig.Add($"{c.U},{c.V}");
                }
            Assert.Equal(n * n, cells.Count);               // a permutation
            Assert.True(seen.Add(string.Join(";", sig)));   // different from the others
        }
    }

    [Fact]
    public void InputTargetAndMaskGetTheSameCropAndTransform()
    {
        // the same ramp as input, target and mask: every output must agree sample for sample
        int w = 40, h = 30;
        var px = new float[w * h * 3];
        var m = new float[w * h];
        for (int i = 0; i < w * h; i++)
        {
            px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = i / (float)(w * h); m[i] = i / (float)(w * h);
        }
        var img = new ImageData(w, h, 3, 8, px);
        var mask = new ImageData(w, h, 1, 8, m);
        for (int seed = 0; seed < 20; seed++)
        {
            var p = PatchSampler.Sample(img, img, mask, 16, new SynthRng((ulong)seed));
            Assert.Equal(p.Input, p.Target);
            Assert.Equal(p.Input.AsSpan(0, 256).ToArray(), p.Mask);
        }
    }

    [Fact]
    public void ImagesSmallerThanThePatchAreReflectPadded()
    {
        var img = new ImageData(5, 3, 1, 8, Enumerable.Range(0, 15).Select(i => i / 15f).ToArray());
        var patch = PatchSampler.Cut(img, 0, 0, 8, 0);
        // row 0: 0 1 2 3 4 3 2 1 (reflect without repeating the edge)
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 3, 2, 1 }.Select(i => i / 15f), patch.Take(8));
        // row 3 reflects to row 1
        Assert.Equal(patch.Skip(8).Take(8), patch.Skip(24).Take(8));
    }
}

public class BatchLoaderTests
{
    sealed class Counter : ISampleSource
    {
        public int Count => 7;
        public Patch Make(int index, int patchSize, SynthRng rng)
        {
            var v = new float[3 * patchSize * patchSize];
            Array.Fill(v, index + (float)rng.NextDouble());
            return new Patch(v, v, null, patchSize);
        }
    }

    [Fact]
    public void AResumedLoaderProducesTheSameBatchesAtTheSameSteps()
    {
        using var fromStart = new BatchLoader(new Counter(), 3, 8, 42, 0);
        var first = Enumerable.Range(0, 12).Select(_ => fromStart.Next()).ToList();
        using var resumed = new BatchLoader(new Counter(), 3, 8, 42, 7);
        for (int s = 7; s < 12; s++)
        {
            var b = resumed.Next();
            Assert.Equal(s, b.Step);
            Assert.Equal(first[s].Input, b.Input);
        }
        Assert.Equal(Enumerable.Range(0, 12), first.Select(b => (int)b.Step));
    }

    [Fact]
    public void EachEpochVisitsEverySampleOnce()
    {
        using var loader = new BatchLoader(new Counter(), 1, 8, 3, 0);
        for (long epoch = 0; epoch < 3; epoch++)
        {
            var seen = Enumerable.Range(0, loader.StepsPerEpoch)
                .Select(i => loader.IndexOf(epoch * loader.StepsPerEpoch + i, 0)).ToList();
            Assert.Equal(Enumerable.Range(0, 7), seen.Order());
        }
    }
}

public class LossTests
{
    [Fact]
    public void CharbonnierOfIdenticalImagesIsEpsilon()
    {
        using var x = rand(1, 3, 16, 16);
        Assert.Equal(CharbonnierLoss.Epsilon, CharbonnierLoss.Compute(x, x).item<float>(), 6);
        using var y = x + 0.5f;
        Assert.Equal(Math.Sqrt(0.25 + 1e-6), CharbonnierLoss.Compute(x, y).item<float>(), 5);
    }

    [Fact]
    public void PixelLossesByNameAreTheirFormulas()
    {
        using var x = zeros(1, 3, 4, 4);
        using var y = zeros(1, 3, 4, 4);
        y[.., .., 0, ..] = 0.5f; // a quarter of the pixels off by 0.5
        Assert.Equal(0.125, PixelLosses.Get("l1")(x, y).item<float>(), 6);
        Assert.Equal(0.0625, PixelLosses.Get("l2")(x, y).item<float>(), 6);
        Assert.Equal(CharbonnierLoss.Compute(x, y).item<float>(),
            PixelLosses.Get("charbonnier")(x, y).item<float>(), 6);
        // psnr: each image's own PSNR, then the mean: MSEs 0.0625 and 0.0025 give -12.04 and -26.02 dB
        using var x2 = zeros(2, 3, 4, 4);
        using var y2 = zeros(2, 3, 4, 4);
        y2[0, .., 0, ..] = 0.5f;
        y2[1] = 0.05f;
        double expected = (10 * Math.Log10(0.0625 + 1e-8) + 10 * Math.Log10(0.0025 + 1e-8)) / 2;
        Assert.Equal(expected, PixelLosses.Get("psnr")(x2, y2).item<float>(), 4);
        // unlike L2 of the pooled batch (10·log10 of the pooled MSE 0.0325 is -14.9 dB)
        Assert.NotEqual(10 * Math.Log10(PixelLosses.Get("l2")(x2, y2).item<float>()), expected, 1);
        // the loss sums its pixel term over the stage outputs
        using var loss = new RestorationLoss(0.05, "l2");
        var (pixel, _, _) = loss.Compute([x, x, y], y);
        Assert.Equal(0.125, pixel.item<float>(), 6);
    }

    [Fact]
    public void TheSpectrumLossOfAConstantOffsetIsItsDcTermAndFrequenciesCountAlike()
    {
        // an offset δ over an H×W plane is one orthonormal DC coefficient δ·√(HW) among the 2·H·(W/2+1) real
        // numbers of the half spectrum: L1 mean δ·4 / 24 = δ/6 for 4×4
        using var x = zeros(1, 3, 4, 4);
        using var y = full(1, 3, 4, 4, 0.3f);
        Assert.Equal(0.3 / 6, FrequencyLoss.Compute(x, y).item<float>(), 6);
        Assert.Equal(0, FrequencyLoss.Compute(y, y).item<float>(), 6);
        // a checkerboard (the highest frequency) of the same energy costs what the offset costs
        using var checker = zeros(1, 3, 4, 4);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) checker[.., .., i, j] = (i + j) % 2 == 0 ? 0.3f : -0.3f;
        Assert.Equal(0.3 / 6, FrequencyLoss.Compute(x, checker).item<float>(), 6);
        // the restoration loss adds it per stage with its weight; off by default
        using var loss = new RestorationLoss(0.05, "l1", frequencyWeight: 2);
        var (pixel, edge, fq) = loss.Compute([x, x], y);
        Assert.Equal(2 * 0.3 / 6, fq!.item<float>(), 6);
        Assert.Equal(pixel.item<float>() + 0.05 * edge.item<float>() + 2 * fq.item<float>(),
            loss.Total(pixel, edge, fq).item<float>(), 5);
        using var plain = new RestorationLoss();
        Assert.Null(plain.Compute([x], y).Frequency);
    }

    [Fact]
    public void AnUnknownPixelLossIsOneClearLine()
    {
        var o = new MemoryNet.Training.TrainOptions
        {
            Data = { Synth = "shadow", Clean = "photos" }, Optimiser = { Steps = 10 }, Loss = { PixelLoss = "huber" },
        };
        var e = Assert.Throws<UserInputException>(o.Validate);
        Assert.Contains("pixel-loss must be one of charbonnier, l1, l2, psnr (got huber)", e.Message);
    }

    [Fact]
    public void TheLaplacianOfAConstantImageIsZeroAndEdgesAreNot()
    {
        using var edge = new EdgeLoss();
        using var flat = full(1, 3, 16, 16, 0.3f);
        // exact in the interior; at the border the replicate-padded, zero-interleaved image differs (as in the
        // reference)
        Assert.True(edge.Laplacian(flat)[.., .., 4..^4, 4..^4].abs().max().item<float>() < 1e-6);
        using var step = zeros(1, 3, 16, 16);
        step[.., .., .., 8..] = 1;
        Assert.True(edge.Laplacian(step).abs().max().item<float>() > 0.1);
        Assert.True(edge.Compute(flat, step).item<float>() > edge.Compute(flat, flat).item<float>());
    }

    [Fact]
    public void ContrastiveTermIsSmallNearTheCleanImageAndLargeNearTheDegradedOne()
    {
        using var loss = ContrastiveLoss.Create("gradient-pyramid");
        using var clean = rand(1, 3, 32, 32);
        using var degraded = rand(1, 3, 32, 32);
        using var nearClean = clean * 0.95f + degraded * 0.05f;
        using var nearDegraded = clean * 0.05f + degraded * 0.95f;
        Assert.True(loss.Compute(nearClean, clean, degraded).item<float>()
            < loss.Compute(nearDegraded, clean, degraded).item<float>());
    }
}

public class TrainerTests
{
    internal static string MakePairs(string dir, int count)
    {
        var rng = new Random(7);
        foreach (var sub in new[] { "input", "target" }) Directory.CreateDirectory(Path.Combine(dir, sub));
        for (int i = 0; i < count; i++)
        {
            var target = new float[24 * 24 * 3];
            for (int k = 0; k < target.Length; k++) target[k] = (float)rng.NextDouble();
            var input = target.Select(v => Math.Min(1f, v + 0.2f)).ToArray();
            ImageCodec.Write(new ImageData(24, 24, 3, 8, input), Path.Combine(dir, "input", $"{i}.png"));
            ImageCodec.Write(new ImageData(24, 24, 3, 8, target), Path.Combine(dir, "target", $"{i}.png"));
        }
        return dir;
    }

    static TrainOptions Options(string data, string outDir, long steps) => new()
    {
        Data = { Folder = data, Val = data, Patch = 16, ValPatch = 16, Batch = 2, Workers = 1 },
        Network = { Arch = "memorynet-s" }, Optimiser = { Steps = steps }, Run = { Threads = 2, Out = outDir },
        Logging = { LogEvery = 1, SaveEvery = 2, ValEvery = 3 },
    };

    [Fact]
    public void ValidationOnAnIstdSetScoresWithItsMasks()
    {
        var root = TestPaths.TempDir();
        var data = MakePairs(Path.Combine(root, "data"), 4);
        var istd = Path.Combine(root, "istd");
        foreach (var (from, to) in new[] { ("input", "train_A"), ("target", "train_C") })
        {
            Directory.CreateDirectory(Path.Combine(istd, to));
            foreach (var f in Directory.GetFiles(Path.Combine(data, from)))
                File.Copy(f, Path.Combine(istd, to, Path.GetFileName(f)));
        }
        Directory.CreateDirectory(Path.Combine(istd, "train_B"));
        var mask = new float[24 * 24 * 3];
        for (int k = 0; k < mask.Length / 2; k++) mask[k] = 1f; // the top half in shadow
        for (int i = 0; i < 4; i++)
            ImageCodec.Write(new ImageData(24, 24, 3, 8, mask), Path.Combine(istd, "train_B", $"{i}.png"));

        var outDir = Path.Combine(root, "run");
        var o = Options(data, outDir, 3);
        o.Data.Val = istd;
        o.Data.ValFormat = "istd";
        o.Logging.ValProtocol = "istd-full";
        var result = new Trainer(o, SampleSources.ForTraining(o.Data), PairedFolders.Read(istd, DatasetLayout.Istd))
            .Run(false, null, _ => { }, default);
        Assert.Equal(StopReason.Finished, result.Reason);
        var val = RunLog.Read(Path.Combine(outDir, "log.jsonl")).Single(r => r["event"]?.GetValue<string>() == "val");
        Assert.Equal("istd-full", val["protocol"]!.GetValue<string>());
        Assert.InRange(val["psnr"]!.GetValue<double>(), 1, 99);
        // the bar beside it: the degraded crops scored as they are
        var bar = new Validator(PairedFolders.Read(istd, DatasetLayout.Istd), "istd-full", o.Data.ValPatch,
            o.Data.ValMax).InputScore();
        Assert.Equal(Math.Round(bar, 4), val["input_psnr"]!.GetValue<double>());
    }

    [Fact]
    public void TheValidationInputScoreIsWhatANetworkThatChangesNothingScores()
    {
        var root = TestPaths.TempDir();
        var data = MakePairs(Path.Combine(root, "data"), 4);
        var validator = new Validator(PairedFolders.Read(data, DatasetLayout.Paired), "rgb", 16, 50);
        using var net = MemoryNet.Architectures.NafNet.NafNetArchitecture.Small.Build();
        double trained = validator.Score(net);
        using (no_grad())
            foreach (var (name, p) in net.named_parameters())
                if (name.StartsWith("ending.")) p.zero_(); // output = ending(features) + input = the input
        double input = validator.InputScore();
        Assert.Equal(input, validator.Score(net), 6);
        Assert.NotEqual(input, trained, 3); // a random ending changes the crops: the bar is not any score
        Assert.InRange(input, 5, 60);
    }

    [Fact]
    public void ARunWritesItsFolderAndAResumeContinuesFromTheCheckpoint()
    {
        var root = TestPaths.TempDir();
        var data = MakePairs(Path.Combine(root, "data"), 4);
        var outDir = Path.Combine(root, "run");
        var o = Options(data, outDir, 4);
        var first = new Trainer(o, SampleSources.ForTraining(o.Data), PairedFolders.Read(data, DatasetLayout.Paired))
            .Run(false, null, _ => { }, default);
        Assert.Equal(StopReason.Finished, first.Reason);
        foreach (var f in new[] { "config.yml", "latest.safetensors", "latest.adam.safetensors", "state.json",
            "best.safetensors", "log.jsonl", "curve.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);

        // best.safetensors loads with no other information
        using (var best = ModelFile.Load(Path.Combine(outDir, "best.safetensors")))
            Assert.Equal("memorynet-s", best.Spec.Name);

        var o2 = Options(data, outDir, 6);
        var second = new Trainer(o2, SampleSources.ForTraining(o2.Data), PairedFolders.Read(data, DatasetLayout.Paired))
            .Run(true, null, _ => { }, default);
        Assert.Equal(6, second.Step);
        var rows = RunLog.Read(Path.Combine(outDir, "log.jsonl"));
        var resume = rows.Single(r => r["event"]?.GetValue<string>() == "resume");
        Assert.Equal(4, resume["step"]!.GetValue<long>());
        var steps = rows.Where(r => r["loss"] is not null).Select(r => r["step"]!.GetValue<long>()).ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6], steps);
        Assert.All(rows.Where(r => r["loss"] is not null),
            r => Assert.True(double.IsFinite(r["loss"]!.GetValue<double>())));
        // memory is logged with every step row: resident MB (a running process has tens of MB at least) and live
        // tensors
        Assert.All(rows.Where(r => r["loss"] is not null), r =>
        {
            Assert.InRange(r["rss_mb"]!.GetValue<double>(), 10, 1e6);
            Assert.InRange(r["live_tensors"]!.GetValue<long>(), 1, 1_000_000);
        });
        Assert.Contains(rows,
            r => r["event"]?.GetValue<string>() == "val" && r["protocol"]!.GetValue<string>() == "rgb");
        // checkpoint writes (after steps 2 and 4) and validation (after 3) leave no tensors behind
        long Live(long s) =>
            rows.First(r => r["loss"] is not null
                && r["step"]!.GetValue<long>() == s)["live_tensors"]!.GetValue<long>();
        Assert.True(Live(2) == Live(4), $"live tensors by step: {Live(1)}, {Live(2)}, {Live(3)}, {Live(4)}");
    }

    [Fact]
    public void KeepEveryLeavesTheWeightsOfThoseStepsForAveraging()
    {
        var root = TestPaths.TempDir();
        var data = MakePairs(Path.Combine(root, "data"), 4);
        var outDir = Path.Combine(root, "run");
        var o = Options(data, outDir, 4);
        o.Data.Val = null;
        o.Logging.KeepEvery = 2;
        new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(false, null, _ => { }, default);
        Assert.Equal(["step-000002.safetensors", "step-000004.safetensors"],
            Directory.GetFiles(Path.Combine(outDir, "steps")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var s2 = ModelFile.Read(Path.Combine(outDir, "steps", "step-000002.safetensors"));
        using var s4 = ModelFile.Read(Path.Combine(outDir, "steps", "step-000004.safetensors"));
        using var latest = ModelFile.Read(Path.Combine(outDir, "latest.safetensors"));
        Assert.Equal("2", s2.Metadata["step"]);
        var w2 = s2.ByName()["tail.weight"]; var w4 = s4.ByName()["tail.weight"];
        Assert.True((w2 - w4).abs().max().item<float>() > 0, "two more steps changed the weights");
        Assert.True((w4 - latest.ByName()["tail.weight"]).abs().max().item<float>() == 0,
            "the last kept weights are the latest");
        o.Logging.KeepEvery = -1;
        Assert.Contains("keep-every must be", Assert.Throws<UserInputException>(() => o.Validate()).Message);
    }

    [Fact]
    public void AnAffineHeadRunFineTunesFromAResidualCheckpointAndSavesAnAffineModel()
    {
        var root = TestPaths.TempDir();
        var data = MakePairs(Path.Combine(root, "data"), 4);
        var residual = Options(data, Path.Combine(root, "residual"), 2);
        new Trainer(residual, SampleSources.ForTraining(residual.Data), null).Run(false, null, _ => { }, default);
        var o = Options(data, Path.Combine(root, "affine"), 2);
        o.Network.Head = "affine";
        o.Network.Init = Path.Combine(root, "residual", "latest.safetensors");
        var result = new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(false, null, _ => { }, default);
        Assert.Equal(StopReason.Finished, result.Reason);
        using var model = ModelFile.Load(Path.Combine(root, "affine", "latest.safetensors"));
        Assert.Equal("affine", ((ArchSpec)model.Spec).Head);
        Assert.Equal("memorynet-s-affine", model.Spec.Name);
        // the offset rows started as the residual tail and the gain rows at zero; two steps moved both a little
        using var init = ModelFile.Read(o.Network.Init);
        var tail = StateDict.Entries(model).Single(e => e.Key == "tail.weight").Value;
        var start = init.ByName()["tail.weight"];
        Assert.True((tail[3..] - start).abs().max().item<float>() < 0.05);
        Assert.True(tail[..3].abs().max().item<float>() is > 0 and < 0.05f);
        o.Network.Head = "linear";
        Assert.Contains("head must be one of", Assert.Throws<UserInputException>(() => o.Validate()).Message);
    }

    [Fact]
    public void TheConfigFileIsGroupedUsesTheFlagNamesAndRoundTrips()
    {
        var o = new TrainOptions
        {
            Data = { Folder = "d" }, Optimiser = { WarmupEpochs = 1.5, Steps = 80 }, Network = { MemoryBranches = 2 },
        };
        var path = Path.Combine(TestPaths.TempDir(), "c.yml");
        File.WriteAllText(path, o.ToYaml());
        string text = File.ReadAllText(path);
        Assert.Contains("optimiser:\n  steps: 80\n", text.Replace("\r", ""), StringComparison.Ordinal);
        Assert.Contains("  warmup-epochs: 1.5", text);
        Assert.Contains("  data: d", text);
        Assert.DoesNotContain("epochs: \n", text);   // unset settings are left out, not written empty
        var back = TrainOptions.FromYaml(path);
        Assert.Equal(1.5, back.Optimiser.WarmupEpochs);
        Assert.Equal(2, back.Network.MemoryBranches);
        Assert.Equal(80, back.Optimiser.Steps);
        Assert.Equal("d", back.Data.Folder);
        Assert.Null(back.Optimiser.Epochs);
    }

    [Fact]
    public void AConfigMayGiveSettingsFlatOrGroupedAndEveryMistakeIsOneLine()
    {
        var dir = TestPaths.TempDir();
        string Write(string text)
        {
            var path = Path.Combine(dir, $"{Guid.NewGuid():N}.yml");
            File.WriteAllText(path, text);
            return path;
        }
        var o = TrainOptions.FromYaml(Write("synth: rain   # a comment\nlr: 5e-4\nloss:\n  edge-weight: 0\n" +
            "  fft-weight: 0.5\nsteps: 100\ndata: pairs\n"));
        Assert.Equal(("rain", 5e-4, 0.0, 0.5, 100L, "pairs"),
            (o.Data.Synth, o.Optimiser.Lr, o.Loss.EdgeWeight, o.Loss.FftWeight, o.Optimiser.Steps, o.Data.Folder));
        Assert.Equal(new TrainOptions().Data.Patch, o.Data.Patch);   // untouched settings keep their defaults

        string Error(string text)
        {
            var path = Write(text);
            var e = Assert.Throws<UserInputException>(() => TrainOptions.FromYaml(path));
            Assert.StartsWith(path + ": ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return e.Message;
        }
        Assert.Contains("line 2: unknown setting 'learning-rate'", Error("lr: 1\nlearning-rate: 2\n"));
        Assert.Contains("unknown setting 'lr' in loss (it belongs to optimiser)", Error("loss:\n  lr: 1\n"));
        Assert.Contains("unknown group 'trainer'", Error("trainer:\n  lr: 1\n"));
        Assert.Contains("patch takes a whole number (got 'big')", Error("patch: big\n"));
        Assert.Contains("lr takes a number (got '1e-4x')", Error("lr: 1e-4x\n"));
        Assert.Contains("patch needs a value", Error("patch:\n"));
        Assert.Matches(@"\(line [12]\)$", Error("lr: [1\n"));   // a YAML syntax error
        Assert.Contains("line 1: a setting's name is one word", Error("[lr]: 1\n"));
    }

    [Fact]
    public void EverySettingHasOneUniqueNameAndAGroup()
    {
        var names = TrainOptions.Settings.Select(s => s.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(["data", "network", "optimiser", "loss", "logging", "run"],
            TrainOptions.Settings.Select(s => s.Group).Distinct());
        Assert.Equal(["data", "patch", "synth-zoom"],
            TrainOptions.Settings.Where(s => s.Group == "data").Select(s => s.Name)
                .Where(n => n is "data" or "patch" or "synth-zoom"));
        var o = new TrainOptions();
        TrainOptions.Setting("max-seconds")!.Set(o, 60.0);
        Assert.Equal(60.0, o.Run.MaxSeconds);
    }
}

public class PaperOptionTests
{
    [Fact]
    public void FeatureMemoriesAddKeysButKeepTheReferenceOnesAndAreInferredFromAFile()
    {
        var spec = ArchSpec.MemoryNetS with { Name = "memorynet-s-fboth", FeatureMemory = "both" };
        using var model = new MemoryNetModel(spec);
        var keys = StateDict.Entries(model).ToDictionary(e => e.Key, e => e.Value.shape);
        using var plain = new MemoryNetModel(ArchSpec.MemoryNetS);
        Assert.All(StateDict.Entries(plain), e => Assert.True(keys.ContainsKey(e.Key), e.Key));
        Assert.Equal([100L, 16], keys["fmem_enc1.memory.weight"]);
        Assert.Equal([100L, 32], keys["fmem_dec3.memory.weight"]);

        // a file without metadata: the feature memories are recognised from its keys
        var path = Path.Combine(TestPaths.TempDir(), "f.safetensors");
        Safetensors.Write(path, StateDict.Entries(model));
        using var ckpt = ModelFile.Read(path);
        Assert.Equal("both", ((ArchSpec)ModelFile.SpecOf(ckpt)).FeatureMemory);

        using var x = rand(1, 3, 16, 16);
        var (stages, recon) = model.ForwardWithAux(x);
        Assert.Equal(3, stages.Length);
        Assert.NotNull(recon);
        Assert.True(recon!.item<float>() > 0);
        Assert.Null(plain.ForwardWithAux(x).Aux);
    }

    [Fact]
    public void TwoPhaseTrainingFitsTheMemoryFirstAndLogsTheReconstructionTerm()
    {
        var root = TestPaths.TempDir();
        var data = Path.Combine(root, "data");
        foreach (var sub in new[] { "input", "target" }) Directory.CreateDirectory(Path.Combine(data, sub));
        var rng = new Random(3);
        for (int i = 0; i < 3; i++)
        {
            var px = Enumerable.Range(0, 16 * 16 * 3).Select(_ => (float)rng.NextDouble()).ToArray();
            ImageCodec.Write(new ImageData(16, 16, 3, 8, px), Path.Combine(data, "input", $"{i}.png"));
            ImageCodec.Write(new ImageData(16, 16, 3, 8, px.Select(v => v * 0.8f).ToArray()),
                Path.Combine(data, "target", $"{i}.png"));
        }
        var o = new TrainOptions
        {
            Data = { Folder = data, Patch = 16, Batch = 1, Workers = 1 },
            Network = { Arch = "memorynet-s", FeatureMemory = "encoder" },
            Optimiser = { MemoryPretrainSteps = 2, Steps = 4 },
            Run = { Threads = 2, Out = Path.Combine(root, "run") }, Logging = { LogEvery = 1 },
        };
        var result = new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(false, null, _ => { }, default);
        Assert.Equal(StopReason.Finished, result.Reason);
        var rows = RunLog.Read(Path.Combine(o.Run.Out, "log.jsonl")).Where(r => r["loss"] is not null).ToList();
        Assert.Equal([1, 1], rows.Take(2).Select(r => r["phase"]!.GetValue<int>()));
        Assert.All(rows.Skip(2), r => { Assert.Null(r["phase"]); Assert.NotNull(r["recon"]); });
        using var trained = ModelFile.Load(Path.Combine(o.Run.Out, "latest.safetensors"));
        Assert.Equal("encoder", ((ArchSpec)trained.Spec).FeatureMemory);
    }
}
