using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>
/// A k×k convolution (by default "same": padding k/2, stride 1; state_dict: weight (O, I/groups, k, k)[, bias],
/// initialised as nn.Conv2d is) that always runs channels-last: its input is given NHWC strides when it lacks them (an
/// alias when it has them), which puts libtorch on oneDNN's channels-last kernels whatever the weight's layout (see
/// <see cref="ChannelsLast"/> for why that matters).
/// </summary>
public sealed class Conv : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly long padding, stride, groups;

    /// <param name="padding">Zero padding on each side; null = "same" (k/2).</param>
    /// <param name="groups">Channel groups (the input channels for a depthwise convolution).</param>
    public Conv(long inChannels, long outChannels, long kernelSize, bool bias = false, long stride = 1, long groups = 1,
        long? padding = null)
        : base(nameof(Conv))
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"channels {inChannels}→{outChannels} do not divide into {groups} groups");
        (weight, this.bias) = InitialParameters(inChannels / groups, outChannels, kernelSize, bias);
        this.padding = padding ?? kernelSize / 2;
        this.stride = stride;
        this.groups = groups;
        RegisterComponents();
    }

    /// <summary>Weight (O, I, k, k) and optional bias as nn.Conv2d initialises them: uniform in ±1/√(I·k²)
    /// (kaiming_uniform with a = √5), I being the input channels of one group.</summary>
    internal static (Parameter Weight, Parameter? Bias) InitialParameters(long inChannels, long outChannels,
        long kernelSize, bool bias)
    {
        double bound = 1.0 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        var w = nn.Parameter(empty(outChannels, inChannels, kernelSize, kernelSize).uniform_(-bound, bound));
        return (w, bias ? nn.Parameter(empty(outChannels).uniform_(-bound, bound)) : null);
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;

    public override Tensor forward(Tensor x)
    {
        using var input = ChannelsLast.Of(x);
        if (stride == 1 && groups == 1 && Kernels.Winograd3x3.Applies(input, weight))
            return Kernels.Winograd3x3.Forward(input, weight, bias, get_num_threads());
        if (groups == 1 && NeedsEvenOutputs(input, weight)) return EvenOutputsConv(input);
        return nn.functional.conv2d(input, weight, bias, strides: [stride, stride], padding: [padding, padding],
            groups: groups);
    }

    /// <summary>
    /// oneDNN 3.7.1's bf16 backward-data of a channels-last convolution with an odd number of output channels (1, 3, 5
    /// measured; 2, 4, 6, 8 and the network's wider ones are right) returns wrong, run-to-run different input gradients
    /// (relative error 0.4 to 10⁷), which made every bf16 training gradient garbage through the 3-channel tail and
    /// SAM convolutions. Forward and the weight gradient are right; fp32 is right (tested).
    /// </summary>
    static bool NeedsEvenOutputs(Tensor input, Tensor weight) =>
        input.dtype == ScalarType.BFloat16 && weight.shape[0] % 2 == 1 && is_grad_enabled()
            && (input.requires_grad || weight.requires_grad);

    /// <summary>The same convolution with one zero output channel appended (then dropped): an even count, a right
    /// backward.</summary>
    Tensor EvenOutputsConv(Tensor input)
    {
        using var scope = NewDisposeScope();
        using var zeroRow = zeros([1, .. weight.shape[1..]], dtype: weight.dtype);
        var w = cat([weight, zeroRow], 0);
        var b = bias is null ? null : cat([bias, zeros(1, dtype: bias.dtype)], 0);
        var y = nn.functional.conv2d(input, w, b, strides: [stride, stride], padding: [padding, padding],
            groups: groups);
        return y[.., ..(int)weight.shape[0]].MoveToOuterDisposeScope();
    }
}
