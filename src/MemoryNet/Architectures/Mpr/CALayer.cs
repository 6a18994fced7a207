using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>Channel attention: global average pool → 1×1 conv c→c/r → ReLU → 1×1 conv c/r→c → sigmoid,
/// times the input.</summary>
public sealed class CALayer : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv_du;
    // the reference's AdaptiveAvgPool2d(1) (no parameters), or local means under TLC
    private readonly ChannelMean avg_pool = new();
    // the two convolutions of conv_du, kept aside (assigned after registration so the state_dict lists them once)
    private readonly Conv2d? squeeze, excite;

    public CALayer(long channels, long reduction, bool bias) : base(nameof(CALayer))
    {
        var sq = nn.Conv2d(channels, channels / reduction, 1, bias: bias);
        var ex = nn.Conv2d(channels / reduction, channels, 1, bias: bias);
        conv_du = nn.Sequential(("0", sq), ("1", nn.ReLU()), ("2", ex), ("3", nn.Sigmoid()));
        RegisterComponents();
        (squeeze, excite) = (sq, ex);
    }

    /// <summary>The per-channel weights: (N, C, 1, 1), or (N, C, H, W) under TLC. A 1×1 convolution is a matrix
    /// product over the channels, so the two convolutions run as <c>linear</c> on the pooled map's (N, h, w, C) rows:
    /// same parameters, no convolution primitives.</summary>
    public Tensor Weights(Tensor x)
    {
        using var scope = NewDisposeScope();
        var pooled = avg_pool.forward(x).permute(0, 2, 3, 1);
        var hidden = nn.functional.relu(nn.functional.linear(pooled, squeeze!.weight!.flatten(1), squeeze!.bias));
        var w = nn.functional.linear(hidden, excite!.weight!.flatten(1), excite!.bias).sigmoid_();
        return w.permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var weights = Weights(x);
        return x * weights;
    }
}
