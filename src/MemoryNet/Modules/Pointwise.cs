using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>
/// A 1×1 convolution (state_dict: weight (O, I, 1, 1)[, bias], initialised as nn.Conv2d is) computed as a matrix
/// product over the pixels: (N, H, W, I) · Wᵀ. On a channels-last input the rows are a view and the result has NHWC
/// strides again. Not a convolution primitive: oneDNN 3.7.1's 1×1 channels-last convolution returns wrong values in
/// fp32 for some output widths (40 and 80 measured, with 2 threads) on AMD Zen 5, while its matrix product is right
/// (see <see cref="ChannelsLast"/>).
/// </summary>
public sealed class Pointwise : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Pointwise(long inChannels, long outChannels, bool bias = false) : base(nameof(Pointwise))
    {
        (weight, this.bias) = Conv.InitialParameters(inChannels, outChannels, 1, bias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var rows = x.permute(0, 2, 3, 1);
        using var w = weight.flatten(1);
        using var y = nn.functional.linear(rows, w, bias);
        return y.permute(0, 3, 1, 2);
    }
}
