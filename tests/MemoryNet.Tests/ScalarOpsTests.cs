using static TorchSharp.torch;

namespace MemoryNet.Tests;

/// <summary>ScalarOps keep every native Scalar of a call alive, including the alpha TorchSharp's one-argument adds
/// make for themselves: a data-parallel training run died at step 7,000 on "Expected false to be true" from
/// Scalar::toFloat when the collector freed that alpha during the call.</summary>
public class ScalarOpsTests
{
    [Fact]
    public void Adds_survive_a_collector_running_beside_them()
    {
        // three threads add while a fourth collects and finalizes without pause; TorchSharp's x.add(s) fails here
        // about forty times a second on 2 cores
        var stop = DateTime.UtcNow.AddSeconds(3);
        int calls = 0;
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        var collector = new Thread(() =>
        {
            while (DateTime.UtcNow < stop) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        });
        var workers = Enumerable.Range(0, 3).Select(i => new Thread(() =>
        {
            using var x = ones(4);
            while (DateTime.UtcNow < stop)
            {
                try
                {
                    using var a = x.AddK(1e-3);
                    using var b = x.clone();
                    b.AddK_(2).Plus_(a);
                    using var c = a.Plus(b);
                    Interlocked.Increment(ref calls);
                    using var total = c.sum();
                    if (Math.Abs(total.item<float>() - 4 * (1.001f + 4.001f)) > 1e-3f) errors.Add("wrong sum");
                }
                catch (Exception e) { errors.Add(e.Message.Split('\n')[0]); }
                _ = new byte[1024];   // garbage, so that collections find Scalars to finalize
            }
        })).ToList();
        collector.Start();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        collector.Join();
        Assert.True(calls > 100, $"{calls} calls");
        Assert.True(errors.IsEmpty, $"{errors.Count} of {calls} calls failed: {errors.FirstOrDefault()}");
    }
}
