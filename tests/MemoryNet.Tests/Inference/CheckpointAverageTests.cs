using MemoryNet.Architectures.Mpr;
using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Inference;

[Collection("Console")]
public class CheckpointAverageTests
{
    static readonly ArchSpec Small = new("small", 8, 4, 4, 1, 0);

    static string SavedRandom(ArchSpec spec, int seed, string dir, string name, string? task = null)
    {
        torch.manual_seed(seed);
        using var model = new MemoryNetModel(spec);
        var path = Path.Combine(dir, name);
        ModelFile.Save(model, path, task is null ? null : new Dictionary<string, string> { ["task"] = task });
        return path;
    }

    [Fact]
    public void Models_average_writes_the_weight_by_weight_mean_and_keeps_the_task()
    {
        var dir = TestPaths.TempDir();
        var paths = new[] { 1, 2, 3 }.Select(s => SavedRandom(Small, s, dir, $"step-{s}.safetensors", "deshadow"))
            .ToArray();
        var outPath = Path.Combine(dir, "mean.safetensors");
        var (code, err) = CliRunner.Run(["models", "average", .. paths, "-o", outPath]);
        Assert.True(code == 0, string.Join("\n", err));

        using var mean = ModelFile.Read(outPath);
        Assert.Equal("deshadow", mean.Metadata["task"]);
        Assert.Contains("mean of 3", mean.Metadata["source"]);
        var files = paths.Select(p => ModelFile.Read(p).ByName()).ToArray();
        var got = mean.ByName();
        Assert.Equal(files[0].Count, got.Count);
        foreach (var (key, t) in got)
        {
            var expected = (files[0][key] + files[1][key] + files[2][key]) / 3;
            Assert.True((t - expected).abs().max().item<float>() < 1e-6, key);
        }
        // not a copy of one of them
        Assert.True((got["tail.weight"] - files[0]["tail.weight"]).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void Models_average_refuses_checkpoints_of_different_architectures_naming_the_file()
    {
        var dir = TestPaths.TempDir();
        var a = SavedRandom(Small, 1, dir, "a.safetensors");
        var b = SavedRandom(Small with { Head = "affine" }, 2, dir, "b.safetensors");
        var outPath = Path.Combine(dir, "mean.safetensors");
        var (code, err) = CliRunner.Run("models", "average", a, b, "-o", outPath);
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.Contains("b.safetensors") && l.Contains("one architecture"));
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void Models_grow_writes_the_deeper_network_keeps_the_task_and_refuses_bad_counts_in_one_line()
    {
        var dir = TestPaths.TempDir();
        var spec = new MemoryNet.Architectures.NafNet.NafNetSpec("custom", 4, [1, 1], 1, [1, 1]);
        var path = Path.Combine(dir, "small.safetensors");
        using (var model = spec.Build())
            ModelFile.Save(model, path, new Dictionary<string, string> { ["task"] = "derain" });
        var outPath = Path.Combine(dir, "deep.safetensors");
        var (code, err) = CliRunner.Run("models", "grow", path, "--enc", "2,1", "--middle", "2", "--dec", "1,3",
            "-o", outPath);
        Assert.True(code == 0, string.Join("\n", err));
        using (var deep = ModelFile.Load(outPath, null, out var meta))
        {
            Assert.Equal(spec with { EncBlocks = [2, 1], MiddleBlocks = 2, DecBlocks = [1, 3] }, deep.Spec);
            Assert.Equal("derain", meta["task"]);
        }
        foreach (var (enc, why) in new[] { ("2,x", "block counts"), ("0,1", "block counts"), ("1,1,1", "2 levels") })
        {
            var bad = Path.Combine(dir, "bad.safetensors");
            (code, err) = CliRunner.Run(
                "models", "grow", path, "--enc", enc, "--middle", "1", "--dec", "1,1", "-o", bad);
            Assert.Equal(2, code);
            Assert.Contains(err, l => l.Contains(why));
            Assert.False(File.Exists(bad));
        }
    }
}
