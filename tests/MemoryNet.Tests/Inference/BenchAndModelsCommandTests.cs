using System.Text.Json.Nodes;
using MemoryNet.Weights;

namespace MemoryNet.Tests.Inference;

[Collection("Console")]
public class BenchAndModelsCommandTests
{
    [Fact]
    public void Roofline_times_every_convolution_width_and_the_matmul_in_both_precisions()
    {
        var json = Path.Combine(TestPaths.TempDir(), "roofline.json");
        var (code, err) = CliRunner.Run("bench", "--roofline", "--size", "16", "--iters", "1", "--threads", "1",
            "--json", json);
        Assert.True(code == 0, string.Join("\n", err));
        var ops = JsonNode.Parse(File.ReadAllText(json))!["ops"]!.AsArray();
        Assert.Equal(10, ops.Count); // 4 widths + matmul, fp32 and bf16
        Assert.Equal(5, ops.Count(o => o!["precision"]!.GetValue<string>() == "bf16"));
        Assert.All(ops, o => Assert.True(o!["gflops"]!.GetValue<double>() > 0 && o["seconds"]!.GetValue<double>() > 0));
    }

    [Fact]
    public void Import_records_the_task_and_refuses_an_unknown_one()
    {
        var dir = TestPaths.TempDir();
        var src = TestPaths.Fixtures("Parity", "tiny_memorynet_plain.pth");
        var outPath = Path.Combine(dir, "m.safetensors");
        var (code, err) = CliRunner.Run("models", "import", src, "--task", "derain", "-o", outPath);
        Assert.True(code == 0, string.Join("\n", err));
        using (var ckpt = ModelFile.Read(outPath))
        {
            Assert.Equal("derain", ckpt.Metadata["task"]);
            Assert.Equal("tiny_memorynet_plain.pth", ckpt.Metadata["source"]);
        }
        var (bad, badErr) = CliRunner.Run("models", "import", src, "--task", "denoise", "-o",
            Path.Combine(dir, "x.safetensors"));
        Assert.Equal(2, bad);
        Assert.Contains(badErr, l => l.Contains("unknown task 'denoise'"));
        Assert.False(File.Exists(Path.Combine(dir, "x.safetensors")));
    }

    [Fact]
    public void The_tlc_default_survives_averaging_and_a_malformed_one_names_the_file()
    {
        var dir = TestPaths.TempDir();
        var src = TestPaths.Fixtures("Parity", "tiny_memorynet_plain.pth");
        string a = Path.Combine(dir, "a.safetensors"), mean = Path.Combine(dir, "mean.safetensors");
        Assert.Equal(0, CliRunner.Run("models", "import", src, "-o", a, "--tlc", "16").Code);
        Assert.Equal(0, CliRunner.Run("models", "average", a, a, "-o", mean).Code);
        using (var ckpt = ModelFile.Read(mean)) Assert.Equal(16, ModelFile.DefaultTlc(ckpt.Metadata, mean));
        Assert.Null(ModelFile.DefaultTlc(new Dictionary<string, string>(), "f.safetensors"));
        var e = Assert.Throws<UserInputException>(() =>
            ModelFile.DefaultTlc(new Dictionary<string, string> { ["tlc"] = "large" }, "f.safetensors"));
        Assert.StartsWith("f.safetensors: metadata 'tlc'", e.Message);
    }
}
