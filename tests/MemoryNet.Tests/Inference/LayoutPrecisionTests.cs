using MemoryNet.Architectures.Mpr;
using MemoryNet.Inference;
using MemoryNet.Modules;
using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Inference;

public class LayoutPrecisionTests
{
    static MemoryNetModel Tiny() =>
        (MemoryNetModel)ModelFile.Load(TestPaths.Fixtures("Parity", "tiny_memorynet_plain.pth"));

    [Fact]
    public void RestorerGivesTheWeightsNhwcStridesAndKeepsThemThroughBf16()
    {
        using var a = Tiny();
        using var b = Tiny();
        using var x = rand(1, 3, 40, 56);
        using var plain = new Restorer(a, Precision.Fp32, prepareWeights: false).Restore(x);
        Assert.False(ChannelsLast.Is(StateDict.Entries(a).First(e => e.Key == "shallow_feat1.0.weight").Value));
        using var prepared = new Restorer(b, Precision.Fp32).Restore(x);
        Assert.True((plain - prepared).abs().max().item<float>() < 1e-5);
        Assert.All(StateDict.Entries(b).Where(e => e.Value.dim() == 4),
            e => Assert.True(ChannelsLast.Is(e.Value), e.Key));
        using var c = Tiny();
        new Restorer(c, Precision.Bf16);
        Assert.All(StateDict.Entries(c).Where(e => e.Value.dim() == 4),
            e => Assert.True(ChannelsLast.Is(e.Value), e.Key));
    }

    /// <summary>
    /// A training step in fp32 (weights as constructed, NCHW input, as in training) against the same weights in fp64
    /// (libtorch's fp64 convolution does not go through oneDNN). Widths 24 and 40 are ones where oneDNN 3.7's NCHW
    /// kernels, and its 1×1 channels-last kernels at 40 and 80 outputs, return wrong values on AMD Zen 5 (see
    /// ChannelsLast): such a convolution anywhere in the network fails this test on such a CPU.
    /// </summary>
    [Theory]
    [InlineData(16, 8, 8, 0)]   // memorynet-s widths 16/24/32, stage 3 at 24
    [InlineData(40, 20, 16, 3)] // the reference widths 40/60/80, stage 3 at 56
    public void Fp32ForwardAndGradientsAgreeWithFp64(int n, int s, int o, int branches)
    {
        torch.manual_seed(11);
        var spec = new ArchSpec("custom", n, s, o, 1, branches);
        using var model = new MemoryNetModel(spec);
        using var reference = new MemoryNetModel(spec);
        StateDict.CopyParameters(model, reference);
        reference.to(float64);
        model.train(); reference.train();
        using var x = rand(2, 3, 32, 40); // NCHW input, as the trainer's batches are
        using var y = rand(2, 3, 32, 40);
        var outputs = model.forward(x);
        var outputs64 = reference.forward(x.to(float64));
        double err = (outputs[0].to(float64) - outputs64[0]).abs().max().item<double>();
        Assert.True(err < 1e-4, $"stage 3 differs from fp64 by {err:E2}");
        (outputs[0] - y).square().sum().backward();
        (outputs64[0] - y.to(float64)).square().sum().backward();
        var grads = StateDict.UniqueParameters(model).Select(p => p.grad).ToList();
        var grads64 = StateDict.UniqueParameters(reference).Select(p => p.grad).ToList();
        for (int i = 0; i < grads.Count; i++)
        {
            if (grads[i] is null) { Assert.Null(grads64[i]); continue; }
            double scale = grads64[i]!.abs().max().item<double>() + 1e-3;
            double gErr = (grads[i]!.to(float64) - grads64[i]!).abs().max().item<double>() / scale;
            Assert.True(gErr < 1e-3, $"gradient {i} differs from fp64 by {gErr:E2} (relative to its largest entry)");
        }
    }

    [Fact]
    public void Bf16KeepsTheMemoryInFp32AndStaysCloseToFp32()
    {
        torch.manual_seed(5);
        var spec = new ArchSpec("custom", 8, 4, 4, 1, 0);
        using var fp32Model = new MemoryNetModel(spec);
        var path = Path.Combine(TestPaths.TempDir(), "m.safetensors");
        ModelFile.Save(fp32Model, path);
        using var bf16Model = ModelFile.Load(path);
        using var x = rand(1, 3, 48, 48);
        using var a = new Restorer(fp32Model).Restore(x);
        using var b = new Restorer(bf16Model, Precision.Bf16).Restore(x);
        Assert.Equal(ScalarType.Float32, b.dtype);
        double meanDiff = (a - b).abs().mean().item<float>();
        Assert.True(meanDiff < 2e-2, $"mean |fp32 - bf16| = {meanDiff}");

        using var mem = Tiny();
        new Restorer(mem, Precision.Bf16);
        var entries = StateDict.Entries(mem).ToDictionary(e => e.Key, e => e.Value.dtype);
        Assert.Equal(ScalarType.Float32, entries["memory.memory.weight"]);
        Assert.Equal(ScalarType.BFloat16, entries["shallow_feat1.0.weight"]);
    }
}
