using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>Channel attention: global average pool → 1×1 conv c→c/r → ReLU → 1×1 conv c/r→c → sigmoid, times the input.</summary>
public sealed class CALayer : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv_du;

    public CALayer(long channels, long reduction, bool bias) : base(nameof(CALayer))
    {
        conv_du = nn.Sequential(
            ("0", nn.Conv2d(channels, channels / reduction, 1, bias: bias)),
            ("1", nn.ReLU()),
            ("2", nn.Conv2d(channels / reduction, channels, 1, bias: bias)),
            ("3", nn.Sigmoid()));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var pooled = x.mean([2, 3], keepdim: true);
        using var weights = conv_du.forward(pooled);
        return x * weights;
    }
}
