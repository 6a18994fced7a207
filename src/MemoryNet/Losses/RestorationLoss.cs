using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>The parts of one step's loss, as logged.</summary>
public sealed record LossParts(double Total, double Pixel, double Edge, double Contrastive, double Recon,
    double Frequency = 0)
{
    /// <summary>Every part times <paramref name="k"/> (a half-batch's share of the batch).</summary>
    public LossParts Scale(double k) =>
        new(Total * k, Pixel * k, Edge * k, Contrastive * k, Recon * k, Frequency * k);

    public static LossParts operator +(LossParts a, LossParts b) =>
        new(a.Total + b.Total, a.Pixel + b.Pixel, a.Edge + b.Edge, a.Contrastive + b.Contrastive, a.Recon + b.Recon,
            a.Frequency + b.Frequency);
}

/// <summary>
/// The paper's objective over all three stage outputs: Σ_s [Charbonnier(X_s, Y) + λ_edge · Edge(X_s, Y)], with an
/// optional spectrum term λ_fft · <see cref="FrequencyLoss"/>(X_s, Y) (off in the paper), plus optional terms
/// (contrastive regularisation) added by the trainer.
/// </summary>
public sealed class RestorationLoss : IDisposable
{
    public double EdgeWeight { get; }
    public double FrequencyWeight { get; }
    private readonly EdgeLoss edge = new();

    private readonly Func<Tensor, Tensor, Tensor> pixel;

    public RestorationLoss(double edgeWeight = 0.05, string pixelLoss = "charbonnier", double frequencyWeight = 0)
    {
        EdgeWeight = edgeWeight;
        FrequencyWeight = frequencyWeight;
        pixel = PixelLosses.Get(pixelLoss);
    }

    /// <summary>Returns (pixel-loss sum, edge sum, spectrum sum or null when its weight is 0) over the stage outputs;
    /// the pixel loss is Charbonnier unless chosen otherwise.</summary>
    public (Tensor Pixel, Tensor Edge, Tensor? Frequency) Compute(IReadOnlyList<Tensor> stages, Tensor target)
    {
        using var scope = NewDisposeScope();
        Tensor? px = null, ed = null, fq = null;
        var targetSpectrum = FrequencyWeight != 0 ? FrequencyLoss.Spectrum(target) : null;
        foreach (var s in stages)
        {
            var c = pixel(s, target);
            var e = edge.Compute(s, target);
            px = px is null ? c : px.Plus(c);
            ed = ed is null ? e : ed.Plus(e);
            if (targetSpectrum is not null)
            {
                var f = FrequencyLoss.AgainstSpectrum(s, targetSpectrum);
                fq = fq is null ? f : fq.Plus(f);
            }
        }
        return (px!.MoveToOuterDisposeScope(), ed!.MoveToOuterDisposeScope(), fq?.MoveToOuterDisposeScope());
    }

    /// <summary>pixel + λ_edge · edge [+ λ_fft · spectrum].</summary>
    public Tensor Total(Tensor pixel, Tensor edge, Tensor? frequency)
    {
        var total = pixel.Plus(edge.MulK(EdgeWeight));
        return frequency is null ? total : total.Plus(frequency.MulK(FrequencyWeight));
    }

    public void Dispose() => edge.Dispose();
}
