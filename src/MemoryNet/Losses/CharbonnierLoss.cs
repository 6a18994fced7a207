using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>Charbonnier loss: mean(sqrt((x − y)² + ε²)), ε = 1e-3 (a smooth L1).</summary>
public static class CharbonnierLoss
{
    public const double Epsilon = 1e-3;

    public static Tensor Compute(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var diff = x - y;
        return (diff * diff).AddK(Epsilon * Epsilon).sqrt().mean().MoveToOuterDisposeScope();
    }
}
