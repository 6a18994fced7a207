using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests;

public class TorchLoadTests
{
    [Fact]
    public void TorchSharpLoadsAndRunsAConvolution()
    {
        using var x = ones(1, 1, 4, 4);
        using var w = ones(1, 1, 3, 3);
        using var y = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
        Assert.Equal(9f, y[0, 0, 1, 1].item<float>());
        Assert.Equal(4f, y[0, 0, 0, 0].item<float>());
    }
}
