using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>Small constructors shared by the blocks.</summary>
public static class Layers
{
    /// <summary>A "same" convolution (padding k/2), as the reference's conv().</summary>
    public static Conv2d Conv(long inChannels, long outChannels, long kernelSize, bool bias = false) =>
        nn.Conv2d(inChannels, outChannels, kernelSize, padding: kernelSize / 2, bias: bias);

    /// <summary>A sequence of CABs named 0..n-1.</summary>
    public static Sequential Cabs(int count, long channels, ArchSpec spec, nn.Module<Tensor, Tensor> act) =>
        nn.Sequential(Enumerable.Range(0, count)
            .Select(i => (i.ToString(), (nn.Module<Tensor, Tensor>)new CAB(channels, spec.KernelSize, spec.Reduction, false, act)))
            .ToArray());

    public static Tensor Bilinear(Tensor x, double scale) =>
        nn.functional.interpolate(x, scale_factor: [scale, scale], mode: InterpolationMode.Bilinear, align_corners: false);
}
