using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>
/// The per-pixel term of the objective by name. Charbonnier (the paper) and L1 estimate the conditional median
/// of the target, L2 its mean: where only a minority of pixels is degraded (a shadow over a fifth of the image),
/// the median of an ambiguous pixel's correction is zero and an L1-type loss can sit at the identity.
/// "psnr" is the negative PSNR of each image, averaged over the batch (as in HINet/NAFNet): the metric itself.
/// Its gradient weighs each image by 1/MSE, so an image with little degradation counts as much as one with a
/// lot, and a correction that damages a nearly clean image is punished hard; L2 lets the heavily degraded
/// images of a batch dominate.
/// </summary>
public static class PixelLosses
{
    public static readonly string[] Names = ["charbonnier", "l1", "l2", "psnr"];

    public static Func<Tensor, Tensor, Tensor> Get(string name) => name switch
    {
        "charbonnier" => CharbonnierLoss.Compute,
        "l1" => (x, y) => nn.functional.l1_loss(x, y),
        "l2" => (x, y) => nn.functional.mse_loss(x, y),
        "psnr" => NegativePsnr,
        _ => throw new ArgumentException($"unknown pixel loss '{name}' (known: {string.Join(", ", Names)})"),
    };

    /// <summary>−PSNR in dB of each image (peak 1), averaged over the batch: 10·log10(MSE_i + 1e-8).</summary>
    public static Tensor NegativePsnr(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var mse = (x - y).PowK(2).mean([1, 2, 3]);
        return mse.AddK(1e-8).log10().MulK(10).mean().MoveToOuterDisposeScope();
    }
}
