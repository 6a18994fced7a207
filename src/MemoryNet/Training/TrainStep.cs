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
    // indices of the input memory's parameters: the only ones the memory phase updates
    private readonly int[] memoryParams;

    public Precision Precision { get; }
    public FlatAdam Optimizer { get; }

    public TrainStep(RestorationNet model, Precision precision, StepObjective objective, double weightDecay = 0)
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
    }
}
