using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>Original-resolution block: num_cab CABs and a conv3×3, with a residual connection.</summary>
public sealed class ORB : nn.Module<Tensor, Tensor>
{
    private readonly Sequential body;

    public ORB(long channels, ArchSpec spec, nn.Module<Tensor, Tensor> act) : base(nameof(ORB))
    {
        var modules = Enumerable.Range(0, spec.NumCab)
            .Select(i => (i.ToString(),
                (nn.Module<Tensor, Tensor>)new CAB(channels, spec.KernelSize, spec.Reduction, false, act)))
            .Append((spec.NumCab.ToString(), Layers.Conv(channels, channels, spec.KernelSize)))
            .ToArray();
        body = nn.Sequential(modules);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var res = body.forward(x);
        if (is_inference_mode_enabled() || !is_grad_enabled()) return res.add_(x, ScalarOps.One);
        using (res) return res.Plus(x);
    }
}
