using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>The parts of one step's loss, as logged.</summary>
public sealed record LossParts(double Total, double Pixel, double Edge, double Contrastive, double Recon);

/// <summary>
/// The paper's objective over all three stage outputs: Σ_s [Charbonnier(X_s, Y) + λ_edge · Edge(X_s, Y)],
/// plus optional terms (contrastive regularisation) added by the trainer.
/// </summary>
public sealed class RestorationLoss : IDisposable
{
    public double EdgeWeight { get; }
    private readonly EdgeLoss edge = new();

    private readonly Func<Tensor, Tensor, Tensor> pixel;

    public RestorationLoss(double edgeWeight = 0.05, string pixelLoss = "charbonnier")
    {
        EdgeWeight = edgeWeight;
        pixel = PixelLosses.Get(pixelLoss);
    }

    /// <summary>Returns (pixel-loss sum, edge sum) over the stage outputs; the pixel loss is Charbonnier unless chosen
    /// otherwise.</summary>
    public (Tensor Pixel, Tensor Edge) Compute(IReadOnlyList<Tensor> stages, Tensor target)
    {
        using var scope = NewDisposeScope();
        Tensor? px = null, ed = null;
        foreach (var s in stages)
        {
            var c = pixel(s, target);
            var e = edge.Compute(s, target);
            px = px is null ? c : px.Plus(c);
            ed = ed is null ? e : ed.Plus(e);
        }
        return (px!.MoveToOuterDisposeScope(), ed!.MoveToOuterDisposeScope());
    }

    public void Dispose() => edge.Dispose();
}
