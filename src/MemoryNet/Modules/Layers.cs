using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>Small constructors shared by the blocks.</summary>
public static class Layers
{
    /// <summary>A "same" convolution (padding k/2), as the reference's conv().</summary>
    public static Conv Conv(long inChannels, long outChannels, long kernelSize, bool bias = false) =>
        new(inChannels, outChannels, kernelSize, bias);

    /// <summary><see cref="Conv"/>, or a <see cref="Pointwise"/> product for a 1×1 kernel.</summary>
    public static nn.Module<Tensor, Tensor> ConvOrPointwise(long inChannels, long outChannels, long kernelSize, bool bias = false) =>
        kernelSize == 1 ? new Pointwise(inChannels, outChannels, bias) : Conv(inChannels, outChannels, kernelSize, bias);

    /// <summary>A sequence of CABs named 0..n-1.</summary>
    public static Sequential Cabs(int count, long channels, ArchSpec spec, nn.Module<Tensor, Tensor> act) =>
        nn.Sequential(Enumerable.Range(0, count)
            .Select(i => (i.ToString(), (nn.Module<Tensor, Tensor>)new CAB(channels, spec.KernelSize, spec.Reduction, false, act)))
            .ToArray());

    public static Tensor Bilinear(Tensor x, double scale) =>
        nn.functional.interpolate(x, scale_factor: [scale, scale], mode: InterpolationMode.Bilinear, align_corners: false);
}
