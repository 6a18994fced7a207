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

    /// <summary>The per-channel weights (N, C, 1, 1). A 1×1 convolution of a 1×1 map is a matrix product, so the two
    /// convolutions run as <c>linear</c> on the pooled (N, C) vector: same parameters, no convolution
    /// primitives.</summary>
    public Tensor Weights(Tensor x)
    {
        using var scope = NewDisposeScope();
        var pooled = Pool(x);
        var hidden = nn.functional.relu(nn.functional.linear(pooled, squeeze!.weight!.flatten(1), squeeze!.bias));
        var w = nn.functional.linear(hidden, excite!.weight!.flatten(1), excite!.bias).sigmoid_();
        return w.unsqueeze(-1).unsqueeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The mean over the pixels, (N, C). For a bf16 channels-last map it is a matrix product with a row of
    /// ones (oneDNN accumulates the bf16 products in fp32), ~5× faster here than libtorch's bf16 mean.</summary>
    static Tensor Pool(Tensor x)
    {
        if (x.dtype != ScalarType.BFloat16 || !ChannelsLast.Is(x)) return x.mean([2, 3]);
        long n = x.shape[0], c = x.shape[1], pixels = x.shape[2] * x.shape[3];
        using var rows = x.permute(0, 2, 3, 1).reshape(n, pixels, c);
        using var ones = torch.ones(n, 1, pixels, dtype: ScalarType.BFloat16);
        using var sum = ones.bmm(rows);
        return sum.view(n, c).div_(pixels);
    }

    public override Tensor forward(Tensor x)
    {
        using var weights = Weights(x);
        return x * weights;
    }
}
