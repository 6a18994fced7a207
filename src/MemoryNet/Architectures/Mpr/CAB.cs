using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>Channel attention block: conv3×3 → PReLU → conv3×3 → channel attention → + input.
/// The PReLU instance is passed in: the reference shares one across the whole network.</summary>
public sealed class CAB : nn.Module<Tensor, Tensor>
{
    /// <summary>A sequence of CABs named 0..n-1.</summary>
    public static Sequential Chain(int count, long channels, ArchSpec spec, nn.Module<Tensor, Tensor> act) =>
        nn.Sequential(Enumerable.Range(0, count)
            .Select(i => (i.ToString(),
                (nn.Module<Tensor, Tensor>)new CAB(channels, spec.KernelSize, spec.Reduction, false, act)))
            .ToArray());

    // declaration order is state_dict order: the reference registers CA before body
    private readonly CALayer CA;
    private readonly Sequential body;

    public CAB(long channels, long kernelSize, long reduction, bool bias, nn.Module<Tensor, Tensor> act)
        : base(nameof(CAB))
    {
        CA = new CALayer(channels, reduction, bias);
        body = nn.Sequential(
            ("0", Layers.Conv(channels, channels, kernelSize, bias)),
            ("1", act),
            ("2", Layers.Conv(channels, channels, kernelSize, bias)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var res = body.forward(x);
        using var weights = CA.Weights(res);
        // without autograd: one pass for the tail (libtorch's bf16 mul_ then add_ take twice as long as addcmul)
        if (is_inference_mode_enabled() || !is_grad_enabled())
            using (res) return x.addcmul(res, weights, ScalarOps.One);
        using (res)
        {
            using var attended = res * weights;
            return attended.Plus(x);
        }
    }
}
