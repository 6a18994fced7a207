using MemoryNet.Memory;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Memory;

public class FusedMemoryReadTests
{
    /// <summary>The fused per-pixel reads equal the tensor reads (softmax, shrink, L1 normalisation, weighted
    /// sum).</summary>
    [Theory]
    [InlineData(3, 1, 0.2)]      // RGB rows, trained-looking items: most addresses survive the shrink
    [InlineData(3, 7, 6.0)]      // large items: peaked softmax, most addresses shrunk to zero
    [InlineData(5, 3, 1.0)]      // another width
    public void MatchesTheTensorReads(int channels, int seed, double itemScale)
    {
        torch.manual_seed(seed);
        using var unit = new MemoryUnit(2, 10, 5, channels);
        using (no_grad()) unit.Items.mul_(itemScale / 0.2);
        using var rows = rand(1000 + 13, channels); // not a multiple of the 16 lanes
        var (s0, i0, p0) = unit.forward(rows);
        Assert.Equal(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, FusedMemoryRead.Applies(rows));
        var (s1, i1, p1) = unit.ForwardFused(rows);
        foreach (var (a, b, what) in new[] { (s0, s1, "semantic"), (i0, i1, "instance"), (p0, p1, "part") })
        {
            Assert.Equal(a.shape, b.shape);
            // the shrink is discontinuous at λ: an address within rounding of 0.0025 may be kept by one and dropped by
            // the other, so the bound is the parity tests' 1e-4 (relative to the read's largest value)
            double d = (a - b).abs().max().item<float>() / a.abs().max().item<float>();
            Assert.True(d < 1e-4, $"{what} read differs by {d:E2} of its largest value");
        }
    }

    [Fact]
    public void InferenceUsesTheFusedPathAndTrainingTheTensorPath()
    {
        torch.manual_seed(2);
        using var mem = new MemModule(2, 10, 5, 3);
        using var x = rand(2, 3, 24, 40);
        var (st, it, pt) = mem.forward(x);               // autograd on: tensor path, differentiable
        Assert.True(st.requires_grad);
        using var mode = inference_mode();
        var (sf, _, _) = mem.forward(x);
        Assert.Equal(st.shape, sf.shape);
        Assert.True((st.detach() - sf).abs().max().item<float>() < 1e-5);
    }
}
