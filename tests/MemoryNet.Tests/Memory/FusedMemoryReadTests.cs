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
        Tensor s0, i0, p0;
        using (no_grad()) (s0, i0, p0) = unit.forward(rows); // without autograd MemoryUnit reads in tensor operations
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

    /// <summary>The training read (<see cref="FusedMemoryReadFunction"/>: fused forward and backward) has the tensor
    /// version's output and autograd's gradients for the rows and the items.</summary>
    [Theory]
    [InlineData(3, 100, 1, 0.2)]   // the part read: 100 items, most addresses above the shrink's threshold
    [InlineData(3, 10, 2, 6.0)]    // semantic-sized, peaked: most addresses shrunk to zero
    [InlineData(3, 20, 3, 1.0)]
    [InlineData(5, 100, 4, 0.5)]   // another width
    public void TheTrainingReadHasAutogradsGradients(int channels, int items, int seed, double itemScale)
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return; // the tensor path is the only one
        torch.manual_seed(seed);
        using var q0 = rand(16 * 20 + 7, channels);
        using var m0 = (rand(items, channels) - 0.5).MulK(itemScale * 2);
        using var weights = rand(16 * 20 + 7, channels); // a loss that weighs every output differently
        (Tensor Out, Tensor Dq, Tensor Dm) Run(Func<Tensor, Tensor, Tensor> read)
        {
            using var q = q0.clone().requires_grad_(true);
            using var m = m0.clone().requires_grad_(true);
            var output = read(q, m);
            (output * weights).sum().backward();
            return (output.detach(), q.grad!.clone(), m.grad!.clone());
        }
        var (o0, dq0, dm0) = Run(MemoryUnit.ReadUnfused);
        var (o1, dq1, dm1) = Run(FusedMemoryReadFunction.Read);
        foreach (var (a, b, what) in
                 new[] { (o0, o1, "output"), (dq0, dq1, "row gradient"), (dm0, dm1, "item gradient") })
        {
            Assert.Equal(a.shape, b.shape);
            double scale = a.abs().max().item<float>();
            double d = (a - b).abs().max().item<float>() / scale;
            Assert.True(scale > 0 && d < 1e-4, $"{what} differs by {d:E2} of its largest value {scale:E2}");
        }
    }

    [Fact]
    public void InferenceAndTrainingReadTheSame()
    {
        torch.manual_seed(2);
        using var mem = new MemModule(2, 10, 5, 3);
        using var x = rand(2, 3, 24, 40);
        var (st, it, pt) = mem.forward(x);               // autograd on: differentiable
        Assert.True(st.requires_grad);
        using var mode = inference_mode();
        var (sf, _, _) = mem.forward(x);
        Assert.Equal(st.shape, sf.shape);
        Assert.True((st.detach() - sf).abs().max().item<float>() < 1e-5);
    }
}
