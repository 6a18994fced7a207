using MemoryNet.Cli.Commands;
using MemoryNet.Imaging;
using MemoryNet.Inference;

namespace MemoryNet.Tests.Inference;

[Collection("Console")]
public class DemoCommandTests
{
    static readonly string TinyModel = TestPaths.Fixtures("Parity", "tiny_memorynet_plain.pth");
    static string Samples => Path.Combine(TestPaths.RepoRoot, "samples", "demo");

    [Fact]
    public void Shipped_samples_are_pairs_of_equal_size_for_every_task()
    {
        foreach (var t in DemoCommand.Tasks)
        {
            var input = ImageCodec.Read(Path.Combine(Samples, t.Name + ".png"));
            var clean = ImageCodec.Read(Path.Combine(Samples, t.Name + "-clean.png"));
            Assert.Equal((clean.Width, clean.Height), (input.Width, input.Height));
        }
    }

    [Fact]
    public void Demo_writes_a_strip_and_the_restored_image_per_task_and_exits_0()
    {
        var outDir = TestPaths.TempDir();
        torch_threads(1);
        int code = DemoCommand.Run(Samples, outDir, Precision.Fp32, _ => TinyModel);
        Assert.Equal(0, code);
        foreach (var t in DemoCommand.Tasks)
        {
            var input = ImageCodec.Read(Path.Combine(Samples, t.Name + ".png"));
            var strip = ImageCodec.Read(Path.Combine(outDir, t.Name + ".png"));
            var restored = ImageCodec.Read(Path.Combine(outDir, t.Name + "-restored.png"));
            Assert.Equal((input.Width, input.Height), (restored.Width, restored.Height));
            Assert.True(strip.Width >= 3 * input.Width,
                $"{t.Name}: strip {strip.Width} px wide for three {input.Width} px panels");
            Assert.Equal(input.Height, strip.Height);
        }
    }

    [Fact]
    public void A_task_without_a_model_is_reported_and_the_exit_code_is_1()
    {
        var outDir = TestPaths.TempDir();
        torch_threads(1);
        int code = DemoCommand.Run(Samples, outDir, Precision.Fp32, t => t == "derain" ? TinyModel : null);
        Assert.Equal(1, code);
        Assert.True(File.Exists(Path.Combine(outDir, "derain.png")));
        Assert.False(File.Exists(Path.Combine(outDir, "deblur.png")));
    }

    [Fact]
    public void No_models_at_all_exits_1_without_writing_strips()
    {
        var outDir = TestPaths.TempDir();
        Assert.Equal(1, DemoCommand.Run(Samples, outDir, Precision.Fp32, _ => null));
        Assert.Empty(Directory.GetFiles(outDir));
    }

    static void torch_threads(int n) => TorchSharp.torch.set_num_threads(n);
}
