using MemoryNet.Architectures.Mpr;
using MemoryNet.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Modules;

/// <summary>The channel-attention means: the summed-area box filter of TLC against a direct average, and TLC on the
/// MPRNet family, whose windows are found the same way.</summary>
public class ChannelMeanTests
{
    [Theory]
    [InlineData(20, 27, 5, 7)]
    [InlineData(9, 31, 12, 4)]   // the window is taller than the map: it is clipped to the map's height
    public void LocalMeansAreTheAverageOfEachBoxReplicatedToTheBorders(int h, int w, int kh, int kw)
    {
        var x = rand(2, 3, h, w, generator: new Generator(11));
        using var local = ChannelMean.Local(x, kh, kw);
        int k1 = Math.Min(h, kh), k2 = Math.Min(w, kw);
        var direct = nn.functional.avg_pool2d(x, [k1, k2], stride: [1, 1]);
        long rows = h - k1 + 1, cols = w - k2 + 1;
        Assert.Equal(new long[] { 2, 3, h, w }, local.shape);
        // the valid boxes sit centred; each border row/column repeats its nearest box
        long top = (h - rows) / 2, left = (w - cols) / 2;
        var inner = local[.., .., (int)top..(int)(top + rows), (int)left..(int)(left + cols)];
        Assert.True((inner - direct).abs().max().item<float>() < 1e-5);
        Assert.True((local[.., .., 0, (int)left] - direct[.., .., 0, 0]).abs().max().item<float>() < 1e-5);
        Assert.True((local[.., .., ^1, ^1] - direct[.., .., ^1, ^1]).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Bf16ChannelsLastMapsGetTheSameLocalMeansInBf16()
    {
        var x = rand(1, 8, 40, 52, generator: new Generator(5)).mul(4).add(100); // far from zero: fp32 sums matter
        using var reference = ChannelMean.Local(x, 9, 13);
        var bf = ChannelsLast.Of(x.to(ScalarType.BFloat16));
        using var local = ChannelMean.Local(bf, 9, 13);
        Assert.Equal(ScalarType.BFloat16, local.dtype);
        Assert.True(ChannelsLast.Is(local));
        // bf16 keeps 8 significant bits: values near 102 are within 0.5 of themselves
        Assert.True((local.to(ScalarType.Float32) - reference).abs().max().item<float>() < 0.6);
        Assert.True((reference - 102).abs().max().item<float>() < 1.0); // box means of U(100, 104) values
    }

    [Fact]
    public void MprNetWithLocalStatisticsKeepsAnImageNoLargerThanItsWindowsAndChangesALargerOne()
    {
        using var model = new MemoryNetModel(new ArchSpec("custom", 8, 4, 4, 1, 0));
        model.eval();
        // weights from a generator of the test's own (tests in parallel draw from the global one): the same network on
        // every run, its channel attention far enough from 0.5 everywhere to react to its means, its output finite
        var g = new Generator(21);
        using (no_grad())
            foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: g).MulK(0.1));
        using var mode = inference_mode();
        var small = rand(1, 3, 32, 32, generator: new Generator(3));
        // dark top, bright bottom: windows of 48 rows see other means than the whole image (uniform noise would not)
        var large = rand(1, 3, 96, 64, generator: new Generator(4)).MulK(0.2);
        large[.., .., 48.., ..] += 0.8;
        var smallGlobal = model.forward(small)[0];
        var largeGlobal = model.forward(large)[0];
        Assert.InRange(largeGlobal.abs().max().item<float>(), 0.01, 100);
        model.UseLocalStatistics(32); // windows of 48 pixels at full resolution
        Assert.Equal(0, (model.forward(small)[0] - smallGlobal).abs().max().item<float>());
        float change = (model.forward(large)[0] - largeGlobal).abs().max().item<float>();
        Assert.True(change > 1e-3, $"local statistics changed the output by {change:E2} only");
        Assert.Throws<UserInputException>(() => model.UseLocalStatistics(1));
        // MPRNet takes multiples of 8: a patch it cannot run is refused, and the model keeps its windows
        Assert.Contains("multiple of 8",
            Assert.Throws<UserInputException>(() => model.UseLocalStatistics(100)).Message);
        Assert.Equal(0, (model.forward(small)[0] - smallGlobal).abs().max().item<float>());
    }
}
