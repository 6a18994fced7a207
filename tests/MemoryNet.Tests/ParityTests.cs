using MemoryNet.Architectures.Mpr;
using MemoryNet.Architectures;
using MemoryNet.Inference;
using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests;

/// <summary>
/// Outputs of the official PyTorch code (tools/make_parity_fixtures.py, Debian's torch 1.13) for random-init weights,
/// reproduced by our network to 1e-4 (fp32).
/// </summary>
public class ParityTests
{
    const double Tolerance = 1e-4;

    static string Fixture(string name) => TestPaths.Fixtures("Parity", name);

    static Dictionary<string, Tensor> ReadIo(string name) =>
        Safetensors.Read(Fixture(name)).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);

    static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double maxDiff = (expected - actual).abs().max().item<float>();
        Assert.True(maxDiff <= Tolerance, $"{what}: max |difference| {maxDiff:E2} > {Tolerance:E0}");
    }

    static void AssertStagesMatch(RestorationNet model, Dictionary<string, Tensor> io)
    {
        using var mode = inference_mode();
        var outputs = model.forward(io["input"]);
        AssertClose(io["stage3"], outputs[0], "stage 3");
        AssertClose(io["stage2"], outputs[1], "stage 2");
        AssertClose(io["stage1"], outputs[2], "stage 1");
        if (io.ContainsKey("mem_sem"))
        {
            var (sem, ins, part) = model.Memory!.forward(io["input"]);
            AssertClose(io["mem_sem"], sem, "memory semantic read");
            AssertClose(io["mem_ins"], ins, "memory instance read");
            AssertClose(io["mem_part"], part, "memory part read");
        }
    }

    [Fact]
    public void TinyMemoryNetFromWrappedCheckpointMatchesTheReference()
    {
        // {'epoch', 'state_dict': {'module.' + key}, 'optimizer'}: the official training scripts' form
        using var model = ModelFile.Load(Fixture("tiny_memorynet_wrapped.pth"));
        Assert.Equal(new ArchSpec("custom", 4, 2, 2, 1, 3), model.Spec);
        AssertStagesMatch(model, ReadIo("tiny_memorynet_io.safetensors"));
    }

    [Theory]
    [InlineData("tiny_memorynet_plain.pth")]
    [InlineData("tiny_memorynet_legacy.pth")]
    public void PlainAndLegacyCheckpointsHoldTheSameWeights(string file)
    {
        using var wrapped = ModelFile.Read(Fixture("tiny_memorynet_wrapped.pth"));
        using var other = ModelFile.Read(Fixture(file));
        var a = wrapped.ByName();
        var b = other.ByName();
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var (k, t) in a) Assert.True(t.allclose(b[k], 0, 0), k);
    }

    [Theory]
    [InlineData("tiny_memory_cudatag.pth")]
    [InlineData("tiny_memory_cudatag_legacy.pth")]
    public void CheckpointsSavedOnAGpuLoadOnTheCpu(string file)
    {
        using var gpu = ModelFile.Read(Fixture(file));
        using var plain = ModelFile.Read(Fixture("tiny_memorynet_plain.pth"));
        var reference = plain.ByName();
        Assert.NotEmpty(gpu.Tensors);
        foreach (var (k, t) in gpu.Tensors) Assert.True(t.allclose(reference[k], 0, 0), k);
    }

    [Fact]
    public void DefaultMemoryNetMatchesTheReference()
    {
        // weights stored as int8 × per-tensor scale; the reference ran on exactly the dequantised values
        var (q, _) = Safetensors.Read(Fixture("default_memorynet_int8.safetensors"));
        var byName = q.ToDictionary(kv => kv.Key, kv => kv.Value);
        var tensors = byName.Keys.Where(k => k.EndsWith(".q"))
            .Select(k => new KeyValuePair<string, Tensor>(k[..^2], byName[k].to(float32) * byName[k[..^2] + ".scale"]))
            .ToList();
        using var ckpt = new Checkpoint("default_memorynet_int8", tensors, []);
        Assert.Equal(ArchSpec.MemoryNet, ModelFile.SpecOf(ckpt));
        using var model = new MemoryNetModel(ArchSpec.MemoryNet);
        ModelFile.Apply(model, ckpt, ArchSpec.MemoryNet);
        model.eval();
        AssertStagesMatch(model, ReadIo("default_memorynet_io.safetensors"));
    }

    [Fact]
    public void MprnetWithoutMemoryMatchesTheReference()
    {
        using var model = ModelFile.Load(Fixture("tiny_mprnet_derain_plain.pth"));
        Assert.False(((ArchSpec)model.Spec).HasMemory);
        Assert.Null(model.Memory);
        AssertStagesMatch(model, ReadIo("tiny_mprnet_derain_io.safetensors"));
    }

    [Fact]
    public void OddSizedInputIsPaddedRunAndCroppedLikeTheReferenceDemo()
    {
        using var model = ModelFile.Load(Fixture("tiny_memorynet_plain.pth"));
        var io = ReadIo("tiny_memorynet_odd_io.safetensors");
        Assert.Equal(45, io["input"].shape[2]);
        using var restored = new Restorer(model).Restore(io["input"]);
        AssertClose(io["output"], restored, "padded restore");
    }

    [Fact]
    public void ForcingTheWrongPresetNamesTheMismatchedKeys()
    {
        var e = Assert.Throws<UserInputException>(
            () => ModelFile.Load(Fixture("tiny_memorynet_plain.pth"), ArchSpec.MprnetDeblur));
        Assert.Contains("tiny_memorynet_plain.pth", e.Message);
        Assert.Matches(@"8 unexpected \([^)]*memory\.memory\.weight", e.Message);
        Assert.Contains("wrongly shaped (shallow_feat1.0.weight: file (4, 3, 3, 3) vs model (96, 3, 3, 3)", e.Message);
        Assert.Contains("missing (stage3_orsnet.orb1.body.1.CA", e.Message);
        Assert.Contains("shapes suggest custom (n_feat 4", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void SafetensorsRoundTripNeedsNoArch()
    {
        var dir = TestPaths.TempDir();
        var path = Path.Combine(dir, "tiny.safetensors");
        using var model = ModelFile.Load(Fixture("tiny_memorynet_wrapped.pth"));
        ModelFile.Save(model, path, new Dictionary<string, string> { ["task"] = "derain" });
        using var reloaded = ModelFile.Load(path, null, out var meta);
        Assert.Equal(model.Spec, reloaded.Spec);
        Assert.Equal("derain", meta["task"]);
        AssertStagesMatch(reloaded, ReadIo("tiny_memorynet_io.safetensors"));
    }

    [Fact]
    public void AFileThatIsNotACheckpointIsOneClearError()
    {
        var dir = TestPaths.TempDir();
        var path = Path.Combine(dir, "notes.pth");
        File.WriteAllText(path, "these are not weights");
        var e = Assert.Throws<UserInputException>(() => ModelFile.Load(path, ArchSpec.MemoryNet));
        Assert.StartsWith(path + ":", e.Message);
    }
}
