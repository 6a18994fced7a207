using MemoryNet.Architectures;
using MemoryNet.Data;
using MemoryNet.Imaging;
using static TorchSharp.torch;

namespace MemoryNet.Training;

/// <summary>
/// The validation of a run: mean PSNR under the named protocol (identical crops count as 100 dB) of the restored image
/// on centre crops of at most <c>max</c> validation pairs; the model is left in eval mode. The degraded crops' own
/// score is the bar: a run whose validation stays below it has not learnt to restore.
/// </summary>
public sealed class Validator(IReadOnlyList<PairedItem> pairs, string protocolName, int cropSize, int max)
{
    public int Count => Math.Min(pairs.Count, max);
    public string Protocol => protocolName;

    private double? inputScore;

    /// <summary>The mean PSNR of the restored crops.</summary>
    public double Score(RestorationNet model)
    {
        model.eval();
        var restorer = new Inference.Restorer(model, Inference.Precision.Fp32, prepareWeights: false);
        return Mean(restorer.Restore);
    }

    /// <summary>The same score of the degraded crops themselves: the level a model must beat (computed once).</summary>
    public double InputScore() => inputScore ??= Mean(x => x.alias());

    double Mean(Func<Tensor, Tensor> restore)
    {
        var protocol = Metrics.EvalProtocols.Get(protocolName);
        double sum = 0;
        int n = 0;
        foreach (var item in pairs.Take(max))
        {
            using var scope = NewDisposeScope();
            var input = ImageCodec.Read(item.Input);
            var target = ImageCodec.Read(item.Target);
            int size = Math.Min(cropSize, Math.Min(input.Width, input.Height));
            int top = (input.Height - size) / 2, left = (input.Width - size) / 2;
            var x = tensor(PatchSampler.Cut(input, top, left, size, 0), [1, 3, size, size]);
            var y = tensor(PatchSampler.Cut(target, top, left, size, 0), [1, 3, size, size]);
            var restored = restore(x);
            // protocols scored per region (istd-*) take the shadow mask of the same crop
            var m = protocol.ShadowLab && item.Mask is not null
                ? tensor(PatchSampler.Cut(ImageCodec.Read(item.Mask), top, left, size, 0), [1, 3, size, size]) : null;
            var score = Metrics.ProtocolScorer.Score(protocol, item.Name, restored, y, m);
            sum += double.IsPositiveInfinity(score.Psnr) ? 100 : score.Psnr;
            n++;
        }
        return sum / Math.Max(1, n);
    }
}
