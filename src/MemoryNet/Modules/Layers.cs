using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>Small constructors shared by the blocks.</summary>
public static class Layers
{
    /// <summary>A "same" convolution (padding k/2), as the reference's conv().</summary>
    public static Conv Conv(long inChannels, long outChannels, long kernelSize, bool bias = false) =>
        new(inChannels, outChannels, kernelSize, bias);

    /// <summary><see cref="Conv"/>, or a <see cref="Pointwise"/> product for a 1×1 kernel.</summary>
    public static nn.Module<Tensor, Tensor> ConvOrPointwise(long inChannels, long outChannels, long kernelSize,
        bool bias = false) =>
        kernelSize == 1 ? new Pointwise(inChannels, outChannels, bias)
            : Conv(inChannels, outChannels, kernelSize, bias);

    public static Tensor Bilinear(Tensor x, double scale) =>
        nn.functional.interpolate(x, scale_factor: [scale, scale], mode: InterpolationMode.Bilinear,
            align_corners: false);
}
