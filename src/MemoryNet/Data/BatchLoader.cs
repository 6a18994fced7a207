using System.Collections.Concurrent;
using MemoryNet.Data.Synthesis;

namespace MemoryNet.Data;

/// <summary>A batch for one training step: (B, 3, P, P) input/target and optional (B, 1, P, P) mask, as flat
/// arrays.</summary>
public sealed record Batch(long Step, int Count, int Size, float[] Input, float[] Target, float[]? Mask);

/// <summary>Produces the samples of a training step: deterministic in (seed, step, slot), whatever thread runs
/// it.</summary>
public interface ISampleSource
{
    int Count { get; }
    Patch Make(int index, int patchSize, SynthRng rng);
}

/// <summary>
/// The order of samples: a fresh permutation per epoch from (seed, epoch), so a resumed run sees the same data
/// at the same step, and a background producer (bounded queue, worker threads) keeps the cores busy.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    private readonly ISampleSource source;
    private readonly int batch, patch;
    private readonly long seed;
    private readonly BlockingCollection<Batch> queue;
    private readonly CancellationTokenSource cts = new();
    private readonly Task producer;
    private readonly Dictionary<long, int[]> permutations = [];

    public int StepsPerEpoch { get; }

    public BatchLoader(ISampleSource source, int batchSize, int patchSize, long seed, long startStep, int workers = 2,
        int capacity = 4)
    {
        if (source.Count == 0) throw new UserInputException("the training set is empty");
        this.source = source; batch = batchSize; patch = patchSize; this.seed = seed;
        StepsPerEpoch = Math.Max(1, source.Count / batchSize);
        queue = new BlockingCollection<Batch>(capacity);
        producer = Task.Run(() => Produce(startStep, workers, cts.Token));
    }

    /// <summary>Dataset index of slot <paramref name="slot"/> of step <paramref name="step"/>.</summary>
    public int IndexOf(long step, int slot)
    {
        long epoch = step / StepsPerEpoch;
        int[] perm;
        lock (permutations)
        {
            if (!permutations.TryGetValue(epoch, out perm!))
            {
                perm = Enumerable.Range(0, source.Count).ToArray();
                var rng = SynthRng.ForItem(seed ^ 0x5EED, epoch);
                for (int i = perm.Length - 1; i > 0; i--)
                {
                    int j = rng.Int(0, i + 1); (perm[i], perm[j]) = (perm[j], perm[i]);
                }
                permutations.Clear();
                permutations[epoch] = perm;
            }
        }
        return perm[(int)((step % StepsPerEpoch * batch + slot) % source.Count)];
    }

    public Batch MakeBatch(long step)
    {
        int plane = 3 * patch * patch;
        var input = new float[batch * plane];
        var target = new float[batch * plane];
        float[]? mask = null;
        for (int j = 0; j < batch; j++)
        {
            var p = source.Make(IndexOf(step, j), patch, SynthRng.ForItem(seed, step * 1024 + j));
            Array.Copy(p.Input, 0, input, j * plane, plane);
            Array.Copy(p.Target, 0, target, j * plane, plane);
            if (p.Mask is not null)
            {
                mask ??= new float[batch * patch * patch];
                Array.Copy(p.Mask, 0, mask, j * patch * patch, patch * patch);
            }
        }
        return new Batch(step, batch, patch, input, target, mask);
    }

    void Produce(long start, int workers, CancellationToken token)
    {
        // workers build steps ahead in parallel; batches enter the queue in step order
        var pending = new Dictionary<long, Task<Batch>>();
        long next = start, issued = start;
        try
        {
            while (!token.IsCancellationRequested)
            {
                while (issued < next + workers) { long s = issued++; pending[s] = Task.Run(() => MakeBatch(s), token); }
                var b = pending[next].GetAwaiter().GetResult();
                pending.Remove(next++);
                queue.Add(b, token);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { Failure = e; }
        finally { queue.CompleteAdding(); }
    }

    public Exception? Failure { get; private set; }

    public Batch Next()
    {
        try { return queue.Take(cts.Token); }
        catch (InvalidOperationException) { throw Failure ?? new InvalidOperationException("data loader stopped"); }
    }

    public void Dispose()
    {
        cts.Cancel();
        try { producer.Wait(TimeSpan.FromSeconds(5)); } catch { }
        cts.Dispose();
    }
}
