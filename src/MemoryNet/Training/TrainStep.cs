using MemoryNet.Architectures;
using MemoryNet.Inference;
using MemoryNet.Losses;
using MemoryNet.Weights;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Training;

/// <summary>The objective: the stage losses (pixel + λ·edge, λ = <c>Loss.EdgeWeight</c>), the optional terms and
/// their weights, and the gradient clip.</summary>
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
        Tensor total, pixel, edge;
        Tensor? contrastive = null, recon = null;
        if (memoryPhase)
        {
            pixel = CharbonnierLoss.Compute(Net.Memory!.ReadMean(y), y);
            edge = zeros(1);
            total = pixel;
        }
        else
        {
            var (stages, r) = Net.ForwardWithAux(x);
            if (work is not null)
            {
                stages = stages.Select(s => s.to(ScalarType.Float32)).ToArray();
                r = r?.to(ScalarType.Float32);
            }
            recon = r;
            (pixel, edge) = objective.Loss.Compute(stages, y);
            total = pixel.Plus(edge.MulK(objective.Loss.EdgeWeight));
            if (recon is not null) total = total.Plus(recon.MulK(objective.ReconWeight));
            if (objective.Contrastive is not null)
            {
                contrastive = objective.Contrastive.Compute(stages[0], y, x);
                total = total.Plus(contrastive.MulK(objective.ContrastiveWeight));
            }
        }
        double value = total.item<float>();
        var parts = new LossParts(value, pixel.item<float>(), edge.item<float>(), contrastive?.item<float>() ?? 0,
            recon?.item<float>() ?? 0);
        if (!double.IsFinite(value)) return parts;

        Optimizer.ZeroGrad();
        if (work is not null) work.zero_grad();
        total.backward();
        if (work is not null) GatherGradients();
        if (objective.GradClip > 0) Optimizer.ClipGradNorm(objective.GradClip);
        Optimizer.Step(lr, memoryPhase ? memoryParams : null);
        return parts;
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
        var parts = new LossParts[2];
        var errors = new Exception?[2];
        var workers = new Thread[2];
        for (int k = 0; k < 2; k++)
        {
            int half = k;
            var xs = half == 0 ? x[..(int)first] : x[(int)first..];
            var ys = half == 0 ? y[..(int)first] : y[(int)first..];
            double share = (half == 0 ? first : batch - first) / (double)batch;
            workers[k] = new Thread(() =>
            {
                try
                {
                    set_num_threads(1);
                    using var inner = NewDisposeScope();
                    var net = replicas![half];
                    net.zero_grad();
                    var (stages, recon) = net.ForwardWithAux(xs);
                    if (Precision == Precision.Bf16)
                    {
                        stages = stages.Select(t => t.to(ScalarType.Float32)).ToArray();
                        recon = recon?.to(ScalarType.Float32);
                    }
                    var (pixel, edge) = objective.Loss.Compute(stages, ys);
                    var total = pixel.Plus(edge.MulK(objective.Loss.EdgeWeight));
                    if (recon is not null) total = total.Plus(recon.MulK(objective.ReconWeight));
                    double value = total.item<float>();
                    parts[half] = new LossParts(value * share, pixel.item<float>() * share,
                        edge.item<float>() * share, 0, (recon?.item<float>() ?? 0) * share);
                    if (double.IsFinite(value)) total.MulK(share).backward();
                }
                catch (Exception e) { errors[half] = e; }
            }, 16 << 20);
            workers[k].Start();
        }
        foreach (var t in workers) t.Join();
        if (errors.FirstOrDefault(e => e is not null) is { } error)
            throw new InvalidOperationException("a data-parallel half step failed: " + error.Message, error);
        var sum = new LossParts(parts[0].Total + parts[1].Total, parts[0].Pixel + parts[1].Pixel,
            parts[0].Edge + parts[1].Edge, 0, parts[0].Recon + parts[1].Recon);
        if (!double.IsFinite(sum.Total)) return sum;
        Optimizer.ZeroGrad();
        using (no_grad())
            for (int i = 0; i < masterParams.Count; i++)
            {
                using var target = masterParams[i].grad!;
                foreach (var r in replicaParams!)
                {
                    using var g = r[i].grad;
                    if (g is not null) target.add_(g);
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
        foreach (var r in replicas ?? []) r.Dispose();
    }
}
