using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>
/// The per-pixel term of the objective by name. Charbonnier (the paper) and L1 estimate the conditional median
/// of the target, L2 its mean: where only a minority of pixels is degraded (a shadow over a fifth of the image),
/// the median of an ambiguous pixel's correction is zero and an L1-type loss can sit at the identity.
/// </summary>
public static class PixelLosses
{
    public static readonly string[] Names = ["charbonnier", "l1", "l2"];

    public static Func<Tensor, Tensor, Tensor> Get(string name) => name switch
    {
        "charbonnier" => CharbonnierLoss.Compute,
        "l1" => (x, y) => nn.functional.l1_loss(x, y),
        "l2" => (x, y) => nn.functional.mse_loss(x, y),
        _ => throw new ArgumentException($"unknown pixel loss '{name}' (known: {string.Join(", ", Names)})"),
    };
}
