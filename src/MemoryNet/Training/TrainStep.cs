using MemoryNet.Architectures;
using MemoryNet.Inference;
using MemoryNet.Losses;
using MemoryNet.Weights;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Training;

/// <summary>The objective: the stage losses (pixel + λ·edge [+ λ_fft·spectrum],
/// <see cref="RestorationLoss.Total"/>), the optional terms and their weights, and the gradient clip.</summary>
public sealed record StepObjective(RestorationLoss Loss, double ReconWeight = 0, ContrastiveLoss? Contrastive = null,
    double ContrastiveWeight = 0, double GradClip = 0);

/// <summary>
/// One optimiser step, apart from the loop that feeds it (<see cref="Trainer"/>, <c>bench --train</c>): forward, the
/// objective Σ_stages (pixel + λ·edge) [+ α·recon] [+ β·contrastive], backward, Adam (<see cref="FlatAdam"/>).
///
/// In bf16 (mixed precision) the model handed in stays the fp32 master: its weights are what Adam updates and what
/// checkpoints save. A bf16 copy of the network (<see cref="ModelLayout"/>: backbone bf16 and channels-last, memory
/// modules fp32) runs forward and backward; each step copies the master weights into it first and its gradients back
/// into the master's fp32 gradient buffer after. The losses are computed in fp32 on the stage outputs. bf16 has fp32's
/// exponent range, so no loss scaling is needed.
/// </summary>
public sealed class TrainStep : IDisposable
{
    private readonly RestorationNet master;
    private readonly RestorationNet? work;
    private readonly List<Parameter> masterParams;
    private readonly List<Parameter>? workParams;
    private readonly StepObjective objective;
    // data parallel: two replicas of the network, each running half the batch on one thread of its own
    private readonly RestorationNet[]? replicas;
    private readonly List<Parameter>[]? replicaParams;
    private readonly HalfWorker[]? workers;
    private readonly HashSet<string> seenShapes = [];
    // indices of the input memory's parameters: the only ones the memory phase updates
    private readonly int[] memoryParams;

    public Precision Precision { get; }
    public FlatAdam Optimizer { get; }

    /// <summary>Whether each step runs as two half-batches on two threads (<c>dataParallel</c>).</summary>
    public bool DataParallel => replicas is not null;

    public TrainStep(RestorationNet model, Precision precision, StepObjective objective, double weightDecay = 0,
        bool dataParallel = false)
    {
        if (precision == Precision.Bf16 && !Kernels.CpuFeatures.HasBf16)
            throw new UserInputException(
                "bf16 precision: this CPU has no bf16 instructions (AVX512-BF16 or AMX); train in fp32");
        NativeHeap.RetainFreedMemory();
        master = model;
        Precision = precision;
        this.objective = objective;
        masterParams = StateDict.UniqueParameters(model);
        var memoryHandles = model.Memory is null ? []
            : StateDict.UniqueParameters(model.Memory).Select(p => p.Handle).ToHashSet();
        memoryParams = Enumerable.Range(0, masterParams.Count)
            .Where(i => memoryHandles.Contains(masterParams[i].Handle)).ToArray();
        Optimizer = new FlatAdam(masterParams, 0.9, 0.999, 1e-8, weightDecay);
        if (precision == Precision.Bf16)
        {
            work = model.Spec.Build();
            StateDict.CopyParameters(model, work);
            ModelLayout.Apply(work, ScalarType.BFloat16);
            work.train();
            workParams = StateDict.UniqueParameters(work);
        }
        if (dataParallel)
        {
            replicas = new RestorationNet[2];
            replicaParams = new List<Parameter>[2];
            for (int i = 0; i < 2; i++)
            {
                replicas[i] = model.Spec.Build();
                StateDict.CopyParameters(model, replicas[i]);
                if (precision == Precision.Bf16) ModelLayout.Apply(replicas[i], ScalarType.BFloat16);
                replicas[i].train();
                replicaParams[i] = StateDict.UniqueParameters(replicas[i]);
            }
            workers = [new HalfWorker(), new HalfWorker()];
        }
    }

    /// <summary>The network that runs forward: the master in fp32, its bf16 copy otherwise.</summary>
    RestorationNet Net => work ?? master;

    /// <summary>
    /// One step on a batch (x, y fp32 (B, 3, H, W)) at learning rate <paramref name="lr"/>. In the memory phase only
    /// the input memory learns (it records clean images). A non-finite loss returns its parts without touching the
    /// weights.
    /// </summary>
    public LossParts Run(Tensor x, Tensor y, double lr, bool memoryPhase = false)
    {
        if (replicas is not null && !memoryPhase && objective.Contrastive is null && x.shape[0] >= 2)
            return RunSplit(x, y, lr);
        using var scope = NewDisposeScope();
        if (work is not null) SyncWeights();
        Tensor total;
        LossParts parts;
        if (memoryPhase)
        {
            total = CharbonnierLoss.Compute(Net.Memory!.ReadMean(y), y);
            double v = total.item<float>();
            parts = new LossParts(v, v, 0, 0, 0);
        }
        else (total, parts) = Objective(Net, x, y);
        if (!double.IsFinite(parts.Total)) return parts;

        Optimizer.ZeroGrad();
        if (work is not null) work.zero_grad();
        total.backward();
        if (work is not null) GatherGradients();
        if (objective.GradClip > 0) Optimizer.ClipGradNorm(objective.GradClip);
        Optimizer.Step(lr, memoryPhase ? memoryParams : null);
        return parts;
    }

    /// <summary>The objective of <paramref name="net"/> on (x, y): Σ_stages (pixel + λ·edge) [+ α·recon]
    /// [+ β·contrastive], computed in fp32 whatever the network runs in, and its logged parts.</summary>
    (Tensor Total, LossParts Parts) Objective(RestorationNet net, Tensor x, Tensor y)
    {
        var (stages, recon) = net.ForwardWithAux(x);
        if (Precision == Precision.Bf16)
        {
            stages = stages.Select(s => s.to(ScalarType.Float32)).ToArray();
            recon = recon?.to(ScalarType.Float32);
        }
        var (pixel, edge, frequency) = objective.Loss.Compute(stages, y);
        var total = objective.Loss.Total(pixel, edge, frequency);
        if (recon is not null) total = total.Plus(recon.MulK(objective.ReconWeight));
        Tensor? contrastive = null;
        if (objective.Contrastive is not null)
        {
            contrastive = objective.Contrastive.Compute(stages[0], y, x);
            total = total.Plus(contrastive.MulK(objective.ContrastiveWeight));
        }
        return (total, new LossParts(total.item<float>(), pixel.item<float>(), edge.item<float>(),
            contrastive?.item<float>() ?? 0, recon?.item<float>() ?? 0, frequency?.item<float>() ?? 0));
    }

    /// <summary>
    /// The step as two half-batches, each on its own thread running libtorch single-threaded, on its own replica of
    /// the network: at 16 channels most of a step is thousands of small operations, whose cost in two-thread OpenMP
    /// regions (fork, barrier) is larger than their arithmetic. Each half's loss is weighted by its share of the batch,
    /// so the summed gradients are the whole batch's.
    /// </summary>
    LossParts RunSplit(Tensor x, Tensor y, double lr)
    {
        using var scope = NewDisposeScope();
        using (no_grad())
            foreach (var r in replicaParams!)
                for (int i = 0; i < masterParams.Count; i++) r[i].copy_(masterParams[i]);
        long batch = x.shape[0], first = batch / 2;
        // The first step of each batch shape runs its halves one after the other. oneDNN makes its convolution
        // primitives for a shape on first use, and two threads making the same ones at once crash it (SIGSEGV in
        // brgemm_convolution_fwd_t::pd_t::init_batch under the backward); once made, they run concurrently.
        bool together = !seenShapes.Add(string.Join("x", x.shape));
        var parts = new LossParts[2];
        var halves = new Task[2];
        for (int k = 0; k < 2; k++)
        {
            int half = k;
            var xs = half == 0 ? x[..(int)first] : x[(int)first..];
            var ys = half == 0 ? y[..(int)first] : y[(int)first..];
            double share = (half == 0 ? first : batch - first) / (double)batch;
            halves[k] = workers![k].Run(() =>
            {
                using var inner = NewDisposeScope();
                replicas![half].zero_grad();
                var (total, p) = Objective(replicas[half], xs, ys);
                parts[half] = p.Scale(share);
                if (double.IsFinite(p.Total)) total.MulK(share).backward();
            });
            if (!together) ((IAsyncResult)halves[k]).AsyncWaitHandle.WaitOne(); // failures surface below
        }
        try { Task.WaitAll(halves); }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            throw new InvalidOperationException("a data-parallel half step failed: " + e.InnerExceptions[0].Message,
                e.InnerExceptions[0]);
        }
        var sum = parts[0] + parts[1];
        if (!double.IsFinite(sum.Total)) return sum;
        Optimizer.ZeroGrad();
        using (no_grad())
            for (int i = 0; i < masterParams.Count; i++)
            {
                using var target = masterParams[i].grad!;
                foreach (var r in replicaParams!)
                {
                    using var g = r[i].grad;
                    if (g is not null) target.Plus_(g);
                }
            }
        if (objective.GradClip > 0) Optimizer.ClipGradNorm(objective.GradClip);
        Optimizer.Step(lr);
        return sum;
    }

    void SyncWeights()
    {
        using var _ = no_grad();
        for (int i = 0; i < masterParams.Count; i++) workParams![i].copy_(masterParams[i]);
    }

    /// <summary>The bf16 network's gradients, in fp32, into the master's gradient buffer (zero where a parameter got
    /// none).</summary>
    void GatherGradients()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < masterParams.Count; i++)
        {
            var g = workParams![i].grad;
            if (g is null) continue;
            var target = masterParams[i].grad!;
            target.copy_(g);
            g.Dispose();
            target.Dispose();
        }
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        work?.Dispose();
        foreach (var w in workers ?? []) w.Dispose();
        foreach (var r in replicas ?? []) r.Dispose();
    }
}

/// <summary>One long-lived thread that runs libtorch single-threaded (its OpenMP thread count is per thread) and
/// executes the half steps posted to it, in order: the same thread every step, so its allocator caches and libtorch's
/// per-thread state are made once.</summary>
sealed class HalfWorker : IDisposable
{
    private readonly System.Collections.Concurrent.BlockingCollection<Action> queue = new();
    private readonly Thread thread;

    public HalfWorker()
    {
        thread = new Thread(() =>
        {
            set_num_threads(1);
            foreach (var work in queue.GetConsumingEnumerable()) work();
        }, 16 << 20) { IsBackground = true, Name = "train half-step" };
        thread.Start();
    }

    public Task Run(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Add(() =>
        {
            try { work(); done.SetResult(); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    public void Dispose()
    {
        queue.CompleteAdding();
        thread.Join();
        queue.Dispose();
    }
}
