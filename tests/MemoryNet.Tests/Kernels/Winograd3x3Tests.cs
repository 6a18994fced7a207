using MemoryNet.Architectures.Mpr;
using MemoryNet.Kernels;
using MemoryNet.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Kernels;

/// <summary>Alone (the Console collection): the reference-width test draws its network and input from the process-wide
/// seeded generator, which tests running beside it also draw from; other weights can put a memory address within
/// rounding of the shrink's threshold, where fp32 and fp64 may keep different addresses.</summary>
[Collection("Console")]
public class Winograd3x3Tests
{
    /// <summary>F(4×4, 3×3) against libtorch's fp64 convolution: partial tiles (sizes not multiples of 4), channel
    /// counts that are not multiples of 16 (masked loads and stores), more than 64 outputs (two matrix-kernel calls),
    /// batches, bias.</summary>
    [Theory]
    [InlineData(1, 16, 16, 8, 8, false)]
    [InlineData(2, 40, 40, 37, 29, true)]
    [InlineData(1, 56, 56, 64, 72, false)]
    [InlineData(4, 60, 80, 16, 20, true)]
    [InlineData(1, 80, 56, 13, 11, false)]
    [InlineData(1, 24, 3, 32, 40, true)]
    [InlineData(1, 8, 96, 9, 33, false)]
    public void MatchesTheDirectConvolution(int n, int cin, int cout, int h, int w, bool withBias)
    {
        torch.manual_seed(cin * 100 + cout);
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var x = ChannelsLast.Of(randn(n, cin, h, w));
        var weight = randn(cout, cin, 3, 3).mul_(0.1);
        var bias = withBias ? randn(cout) : null;
        var reference = nn.functional.conv2d(x.to(float64), weight.to(float64), bias?.to(float64), padding: [1, 1]);
        var y = Winograd3x3.Forward(x, weight, bias, 2);
        Assert.Equal(reference.shape, y.shape);
        Assert.True(ChannelsLast.Is(y));
        double err = (y.to(float64) - reference).abs().max().item<double>() / reference.abs().max().item<double>();
        Assert.True(err < 2e-5, $"relative error {err:E2}");
    }

    [Fact]
    public void TheConvModuleUsesItOnlyWithoutAutogradAndForFp32()
    {
        torch.manual_seed(3);
        using var conv = new Conv(40, 40, 3);
        using var x = ChannelsLast.Of(rand(1, 40, 64, 72));
        Assert.False(Winograd3x3.Applies(x, conv.Weight)); // autograd is on
        using (inference_mode())
        {
            Assert.Equal(Winograd3x3.Enabled && System.Runtime.Intrinsics.X86.Avx512F.IsSupported,
                Winograd3x3.Applies(x, conv.Weight));
            // too few pixels to pay
            using (var small = rand(1, 40, 32, 32)) Assert.False(Winograd3x3.Applies(small, conv.Weight));
            using var xb = x.to(bfloat16);
            Assert.False(Winograd3x3.Applies(xb, conv.Weight.to(bfloat16)));
            using var y = conv.forward(x);
            using var direct = nn.functional.conv2d(x, conv.Weight, padding: [1, 1]);
            Assert.True((y - direct).abs().max().item<float>() < 1e-4);
        }
    }

    /// <summary>The reference widths (40/60/80, stage 3 at 56) on a 128² image, where most 3×3 convolutions take the
    /// Winograd path, against the same weights run in fp64 (libtorch's direct fp64 convolution).</summary>
    [Fact]
    public void AReferenceWidthNetworkStaysWithin1e4OfFp64()
    {
        torch.manual_seed(21);
        var spec = new ArchSpec("custom", 40, 20, 16, 1, 3);
        using var model = new MemoryNetModel(spec);
        using var reference = new MemoryNetModel(spec);
        MemoryNet.Weights.StateDict.CopyParameters(model, reference);
        reference.to(float64).eval();
        using var x = rand(1, 3, 128, 128);
        using var restored = new MemoryNet.Inference.Restorer(model).Restore(x);
        using var mode = inference_mode();
        var expected = reference.forward(x.to(float64))[0].clamp(0, 1);
        double err = (restored.to(float64) - expected).abs().max().item<double>();
        Assert.True(err < 1e-4, $"max |fp32 − fp64| = {err:E2}");
    }
}
