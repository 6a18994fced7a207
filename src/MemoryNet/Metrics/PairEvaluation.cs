using MemoryNet.Data;
using MemoryNet.Imaging;
using MemoryNet.Inference;
using TorchSharp;

namespace MemoryNet.Metrics;

/// <summary>Scores image pairs under a protocol: existing results against targets, or a network's
/// restorations.</summary>
public static class PairEvaluation
{
    /// <summary>
    /// Scores each item's Input (a result) against its Target, several pairs at a time (one torch thread each: the
    /// per-image work is many small element-wise operations, which parallelise better across images).
    /// <paramref name="tick"/> is called after each pair (from worker threads). A bad input is rethrown alone.
    /// </summary>
    public static PairScore[] Score(EvalProtocol protocol, IReadOnlyList<PairedItem> items, int border = 0,
        Action? tick = null)
    {
        var scores = new PairScore[items.Count];
        int threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            Parallel.For(0, items.Count,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 8) }, i =>
            {
                var it = items[i];
                var m = it.Mask is null ? null : ImageCodec.Read(it.Mask);
                scores[i] = ProtocolScorer.Score(protocol, it.Name, ImageCodec.Read(it.Input),
                    ImageCodec.Read(it.Target), m, border);
                tick?.Invoke();
            });
        }
        catch (AggregateException e)
        {
            // one clear error: a bad input first
            var first = e.Flatten()
                .InnerExceptions.OrderBy(x => x is UserInputException or ImageFormatException ? 0 : 1).First();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        }
        finally { torch.set_num_threads(threads); }
        return scores;
    }

    /// <summary>
    /// Restores each item's Input with <paramref name="restorer"/> and scores it against the Target. With
    /// <paramref name="saveDir"/>, writes each restored image (NAME.png) and an input | restored | target strip
    /// (NAME.strip.png) there.
    /// </summary>
    public static PairScore[] RestoreAndScore(Restorer restorer, EvalProtocol protocol, IReadOnlyList<PairedItem> items,
        int border = 0,
        string? saveDir = null, Action? tick = null)
    {
        var scores = new PairScore[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            var it = items[i];
            var input = ImageCodec.Read(it.Input);
            var target = ImageCodec.Read(it.Target);
            var mask = it.Mask is null ? null : ImageCodec.Read(it.Mask);
            var restored = ImageRestorer.Restore(restorer, input, 8);
            scores[i] = ProtocolScorer.Score(protocol, it.Name, restored, target, mask, border);
            if (saveDir is not null)
            {
                string stem = it.Name.Replace('/', '_');
                ImageCodec.Write(restored, Path.Combine(saveDir, stem + ".png"));
                ImageCodec.Write(ComparisonStrip.Make([input, restored, target]),
                    Path.Combine(saveDir, stem + ".strip.png"));
            }
            tick?.Invoke();
        }
        return scores;
    }
}
