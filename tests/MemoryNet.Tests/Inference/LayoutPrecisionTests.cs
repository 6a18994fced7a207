using MemoryNet.Inference;
using MemoryNet.Modules;
using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Inference;

public class LayoutPrecisionTests
{
    static MemoryNetModel Tiny() => ModelFile.Load(TestPaths.Fixtures("Parity", "tiny_memorynet_plain.pth"));

    [Fact]
    public void ChannelsLastGivesTheSameOutputAsNchw()
    {
        using var a = Tiny();
        using var b = Tiny();
        using var x = rand(1, 3, 40, 56);
        using var nchw = new Restorer(a, Precision.Fp32, channelsLast: false).Restore(x);
        using var nhwc = new Restorer(b, Precision.Fp32, channelsLast: true).Restore(x);
        Assert.True((nchw - nhwc).abs().max().item<float>() < 1e-5);
        // the conversion really happened: a 3x3 conv weight now has NHWC strides
        var w = StateDict.Entries(b).First(e => e.Key == "shallow_feat1.0.weight").Value;
        Assert.True(ModelLayout.IsChannelsLast(w));
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
