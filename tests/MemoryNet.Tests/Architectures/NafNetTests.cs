using MemoryNet.Architectures.Mpr;
using MemoryNet.Architectures.NafNet;
using MemoryNet.Architectures;
using MemoryNet.Data;
using MemoryNet.Inference;
using MemoryNet.Training;
using MemoryNet.Weights;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Architectures;

/// <summary>
/// NAFNet, the second family: outputs of the official megvii-research/NAFNet code (tools/make_nafnet_fixtures.py,
/// Debian's torch 1.13, random weights with non-zero β/γ) reproduced to 1e-4, its hyper-parameters read off the
/// state_dict, and the rest of the program (weights files, the restorer, the trainer) working through the interface.
/// </summary>
public class NafNetTests
{
    const double Tolerance = 1e-4;

    static string Fixture(string name) => TestPaths.Fixtures("Parity", name);

    static double MaxDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        return (a - b).abs().max().item<float>();
    }

    public static TheoryData<string, int, int[], int, int[]> Configs => new()
    {
        { "nafnet_a_wrapped", 8, [1, 1], 1, [1, 1] },
        { "nafnet_b", 8, [1, 2, 1], 2, [1, 1, 1] },
        { "nafnet_c", 4, [1, 1, 1, 1], 1, [1, 1, 1, 1] },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void OfficialCheckpointsLoadWithTheirShapeReadOffTheWeightsAndMatchTheReference(string file, int width,
        int[] enc, int middle, int[] dec)
    {
        using var model = ModelFile.Load(Fixture(file + ".pth"));
        Assert.Equal(new NafNetSpec("custom", width, enc, middle, dec), model.Spec);
        var io = Safetensors.Read(Fixture(file.Replace("_wrapped", "") + "_io.safetensors"))
            .Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        using var mode = inference_mode();
        // sizes that are not multiples of 2^levels: the network zero-pads and crops as the reference does
        var output = model.forward(io["input"])[0];
        double diff = MaxDiff(io["output"], output);
        Assert.True(diff <= Tolerance, $"{file}: max |difference| {diff:E2}");
    }

    [Theory]
    [InlineData("nafnet_b", 32)]
    [InlineData("nafnet_c", 16)]
    public void LocalStatisticsMatchTheOfficialTestTimeLocalConverter(string file, int trainSize)
    {
        using var model = ModelFile.Load(Fixture(file + ".pth"));
        var io = Safetensors.Read(Fixture($"{file}_tlc{trainSize}_io.safetensors"))
            .Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        using var mode = inference_mode();
        var global = model.forward(io["input"])[0];
        model.UseLocalStatistics(trainSize);
        // each window is the official AvgPool2d's kernel, module for module (the manifest lists them in order)
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixture("nafnet_manifest.json")))!;
        var kernels = manifest["tlc"]![file]!["kernel_sizes"]!.AsArray()
            .Select(k => (k![0]!.GetValue<int>(), k[1]!.GetValue<int>())).ToList();
        var windows = model.modules().OfType<MemoryNet.Modules.ChannelMean>().Select(m => m.Window!.Value).ToList();
        Assert.Equal(kernels, windows);
        var local = model.forward(io["input"])[0];
        double diff = MaxDiff(io["output"], local);
        Assert.True(diff <= Tolerance, $"{file}: max |difference| from NAFNetLocal {diff:E2}");
        // the windows are smaller than the input, so the statistics, and the image, change
        Assert.True(MaxDiff(global, local) > 1e-3);
        model.UseLocalStatistics(null);
        Assert.True(MaxDiff(global, model.forward(io["input"])[0]) == 0);
    }

    [Fact]
    public void SavedWeightsCarryTheSpecAndRestoreTheSameImage()
    {
        using var model = ModelFile.Load(Fixture("nafnet_b.pth"));
        var path = Path.Combine(TestPaths.TempDir(), "nafnet.safetensors");
        ModelFile.Save(model, path);
        using var again = ModelFile.Load(path);
        Assert.Equal(model.Spec, again.Spec);
        Assert.Equal(8, again.Spec.SizeMultiple);
        using var x = rand(1, 3, 37, 50);
        using var a = new Restorer(model).Restore(x);
        using var b = new Restorer(again).Restore(x);
        Assert.Equal(0, MaxDiff(a, b));
        Assert.Equal(new long[] { 1, 3, 37, 50 }, a.shape);
    }

    [Fact]
    public void Bf16InferenceStaysCloseToFp32()
    {
        using var fp32 = ModelFile.Load(Fixture("nafnet_c.pth"));
        using var bf16 = ModelFile.Load(Fixture("nafnet_c.pth"));
        using var x = rand(1, 3, 48, 64);
        using var a = new Restorer(fp32).Restore(x);
        using var b = new Restorer(bf16, Precision.Bf16).Restore(x);
        double diff = MaxDiff(a, b), mean = (a - b).abs().mean().item<float>();
        Assert.True(mean < 0.01 && diff < 0.1, $"bf16 vs fp32: mean |difference| {mean:E2}, max {diff:E2}");
    }

    [Fact]
    public void TheRegistryTellsTheFamiliesApartAndNamesAnUnknownOne()
    {
        using var naf = ModelFile.Read(Fixture("nafnet_a.pth"));
        using var mpr = ModelFile.Read(Fixture("tiny_mprnet_derain_plain.pth"));
        Assert.IsType<NafNetSpec>(ArchRegistry.Infer(naf.ByName(), naf.Path));
        Assert.IsType<ArchSpec>(ArchRegistry.Infer(mpr.ByName(), mpr.Path));
        using var w = zeros(3, 3);
        var e = Assert.Throws<UserInputException>(
            () => ArchRegistry.Infer(new Dictionary<string, Tensor> { ["body.0.weight"] = w }, "other.pth"));
        Assert.Contains("other.pth", e.Message);
        Assert.Contains("nafnet", e.Message);
        // metadata of a family this version does not know is one clear line too
        var meta = new Dictionary<string, string> { ["arch"] = """{"family":"swinir","name":"x"}""" };
        Assert.Contains("swinir", Assert.Throws<UserInputException>(() => ArchRegistry.FromMetadata(meta)).Message);
        Assert.Same(NafNetArchitecture.Small, ArchRegistry.FromName("NAFNet-S"));
    }

    [Fact]
    public void APresetSpecIsReportedByItsName()
    {
        using var model = NafNetArchitecture.Small.Build();
        var path = Path.Combine(TestPaths.TempDir(), "s.safetensors");
        ModelFile.Save(model, path);
        using var ckpt = ModelFile.Read(path);
        // without the metadata, the shapes alone give the preset back
        Assert.Equal("nafnet-s", ArchRegistry.Infer(ckpt.ByName(), path).Name);
        Assert.Equal(16, NafNetArchitecture.Small.SizeMultiple);
    }

    [Fact]
    public void TrainsResumesAndRefusesTheMemoryOptions()
    {
        var root = TestPaths.TempDir();
        var data = Training.TrainerTests.MakePairs(Path.Combine(root, "data"), 4);
        TrainOptions Options(long steps) => new()
        {
            Data = { Folder = data, Val = data, Patch = 16, ValPatch = 16, Batch = 2, Workers = 1 },
            Network = { Arch = "nafnet-s" }, Optimiser = { Steps = steps, Lr = 1e-3 }, Loss = { PixelLoss = "psnr" },
            Run = { Threads = 2, Out = Path.Combine(root, "run") },
            Logging = { LogEvery = 1, SaveEvery = 2, ValEvery = 2 },
        };
        var o = Options(4);
        var first = new Trainer(o, SampleSources.ForTraining(o.Data), PairedFolders.Read(data, DatasetLayout.Paired))
            .Run(false, null, _ => { }, default);
        Assert.Equal(StopReason.Finished, first.Reason);
        using (var best = ModelFile.Load(Path.Combine(root, "run", "best.safetensors")))
            Assert.Equal("nafnet-s", best.Spec.Name);
        using (var before = ModelFile.Read(Path.Combine(root, "run", "latest.safetensors")))
        {
            var o2 = Options(6);
            var second = new Trainer(o2, SampleSources.ForTraining(o2.Data), null).Run(true, null, _ => { }, default);
            Assert.Equal(6, second.Step);
            using var after = ModelFile.Read(Path.Combine(root, "run", "latest.safetensors"));
            // the blocks learn: β (zero at the start) has moved
            Assert.True(after.ByName()["encoders.0.0.beta"].abs().max().item<float>() > 0);
            Assert.True(MaxDiff(before.ByName()["intro.weight"], after.ByName()["intro.weight"]) > 0);
        }
        var bad = Options(2);
        bad.Network.MemoryBranches = 1;
        Assert.Contains("MPRNet family",
            Assert.Throws<UserInputException>(() => new Trainer(bad, SampleSources.ForTraining(bad.Data), null).Spec())
            .Message);
    }

    [Fact]
    public void AGrownNetworkComputesWhatTheSourceDidAndTrainsOnAsItsOwnArchitecture()
    {
        var small = new NafNetSpec("custom", 4, [1, 1], 1, [1, 1]);
        using var source = small.Build();
        manual_seed(5);
        using (no_grad()) // trained blocks are not the identity: random β and γ
            foreach (var (key, t) in StateDict.Entries(source)
                         .Where(e => e.Key.EndsWith("beta") || e.Key.EndsWith("gamma")))
                t.copy_(randn_like(t) * 0.5);
        using var grown = NafNetArchitecture.Grow(source, [2, 1], 3, [1, 2]);
        Assert.Equal(new NafNetSpec("custom", 4, [2, 1], 3, [1, 2]), grown.Spec);
        long Count(nn.Module m) => m.parameters().Sum(p => p.numel());
        Assert.True(Count(grown) > Count(source));
        using var x = rand(1, 3, 20, 28);
        using (inference_mode())
        {
            double diff = MaxDiff(source.forward(x)[0], grown.forward(x)[0]);
            Assert.True(diff < 1e-6, $"grown vs source: max |difference| {diff:E2}");
        }
        // the source's weights under their names, the new blocks' layer scales at zero
        var theirs = StateDict.Entries(source).ToDictionary(e => e.Key, e => e.Value);
        foreach (var (key, t) in StateDict.Entries(grown))
            if (theirs.TryGetValue(key, out var w)) Assert.Equal(0, MaxDiff(w, t));
            else if (key.EndsWith("beta") || key.EndsWith("gamma")) Assert.Equal(0, t.abs().max().item<float>());
        Assert.Contains("cannot remove", Assert.Throws<UserInputException>(
            () => NafNetArchitecture.Grow(source, [1, 1], 0, [1, 1])).Message);
        Assert.Contains("2 levels", Assert.Throws<UserInputException>(
            () => NafNetArchitecture.Grow(source, [1, 1, 1], 1, [1, 1, 1])).Message);
        using var mpr = ArchRegistry.FromName("memorynet-s").Build();
        Assert.Contains("only a NAFNet", Assert.Throws<UserInputException>(
            () => NafNetArchitecture.Grow(mpr, [1, 1], 1, [1, 1])).Message);

        // train --init GROWN without an arch trains the grown network; a preset that does not fit is refused by name
        var root = TestPaths.TempDir();
        var init = Path.Combine(root, "grown.safetensors");
        ModelFile.Save(grown, init);
        var data = Training.TrainerTests.MakePairs(Path.Combine(root, "data"), 4);
        var o = new TrainOptions
        {
            Data = { Folder = data, Patch = 16, Batch = 2, Workers = 1 }, Network = { Init = init },
            Optimiser = { Steps = 2, Lr = 1e-3 }, Run = { Threads = 2, Out = Path.Combine(root, "run") },
            Logging = { LogEvery = 1, SaveEvery = 2 },
        };
        var result = new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(false, null, _ => { }, default);
        Assert.Equal(StopReason.Finished, result.Reason);
        using (var trained = ModelFile.Load(Path.Combine(root, "run", "latest.safetensors")))
            Assert.Equal(grown.Spec, trained.Spec);
        // it resumes as the grown network when the init file is gone
        File.Move(init, init + ".moved");
        o.Optimiser.Steps = 4;
        Assert.Equal(4,
            new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(true, null, _ => { }, default).Step);
        // and when it is resumed without --init at all (tools/train-recipe.sh names INIT only to start)
        o.Network.Init = null;
        o.Optimiser.Steps = 6;
        Assert.Equal(6,
            new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(true, null, _ => { }, default).Step);
        using (var resumed = ModelFile.Load(Path.Combine(root, "run", "latest.safetensors")))
            Assert.Equal(grown.Spec, resumed.Spec);
        o.Network.Init = init;
        File.Move(init + ".moved", init);
        o.Network.Arch = "nafnet-s";
        o.Run.Out = Path.Combine(root, "run2");
        Assert.Contains("grown.safetensors", Assert.Throws<UserInputException>(
            () => new Trainer(o, SampleSources.ForTraining(o.Data), null).Run(false, null, _ => { }, default)).Message);
        // without init or arch, the default is still MemoryNet
        Assert.Equal("memorynet",
            new Trainer(new TrainOptions(), SampleSources.ForTraining(o.Data), null).Spec().Name);
    }
}
