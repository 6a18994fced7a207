using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Memory;

/// <summary>
/// Hierarchical prototype memory (part → instance → semantic). Items: L classes × T prototypes × P parts,
/// each a C-vector. Each level reads with sparse-shrinkage addressing; the instance and semantic prototypes
/// are gated averages of the level below.
/// </summary>
public sealed class MemoryUnit : nn.Module
{
    public const double ShrinkThreshold = 0.0025;

    private readonly Parameter weight;
    private readonly Conv1d reweight_layer_part, reweight_layer_ins;
    private readonly int numCls, pttNum, partNum, feaDim;

    public MemoryUnit(int pttNum, int numCls, int partNum, int feaDim) : base(nameof(MemoryUnit))
    {
        this.numCls = numCls; this.pttNum = pttNum; this.partNum = partNum; this.feaDim = feaDim;
        double bound = 1.0 / Math.Sqrt(feaDim);
        weight = nn.Parameter(empty(numCls * pttNum * partNum, feaDim).uniform_(-bound, bound));
        reweight_layer_part = nn.Conv1d(partNum, partNum, 1, bias: true);
        reweight_layer_ins = nn.Conv1d(pttNum, pttNum, 1, bias: true);
        RegisterComponents();
    }

    public Parameter Items => weight;

    /// <summary>address(q, M) · M with address = L1-normalise(shrink(softmax(q Mᵀ))).</summary>
    public static Tensor Read(Tensor query, Tensor memory)
    {
        // training: the fused read with its own backward (same values and gradients, a fraction of the passes)
        if (is_grad_enabled() && FusedMemoryRead.Applies(query) && memory.dtype == ScalarType.Float32)
            return FusedMemoryReadFunction.Read(query, memory);
        return ReadUnfused(query, memory);
    }

    /// <summary><see cref="Read"/> in tensor operations (any width, dtype and device; autograd's backward).</summary>
    public static Tensor ReadUnfused(Tensor query, Tensor memory)
    {
        using var scope = NewDisposeScope();
        var att = query.matmul(memory.t()).softmax(1);
        // shrink(a) = relu(a − λ)·a / (|a − λ| + 1e-12): zeroes weak addresses, keeps strong ones unchanged
        var shifted = att.SubK(ShrinkThreshold);
        att = nn.functional.relu(shifted) * att / shifted.abs().AddK(1e-12);
        att = nn.functional.normalize(att, p: 1, dim: 1);
        return att.matmul(memory).MoveToOuterDisposeScope();
    }

    /// <summary>The instance prototypes (L·T, C): W viewed raw as (L·T, C, P), parts gated, averaged over
    /// parts.</summary>
    public Tensor InstancePrototypes()
    {
        using var scope = NewDisposeScope();
        var parts = weight.view(numCls * pttNum, feaDim, partNum).permute(0, 2, 1);      // (LT, P, C)
        var gated = reweight_layer_part.forward(parts).sigmoid() * parts;                // parts as channels
        return gated.permute(0, 2, 1).mean([2]).MoveToOuterDisposeScope();                // (LT, C)
    }

    /// <summary>The semantic prototypes (L, C): instances viewed as (L, T, C), gated, averaged over T.</summary>
    public static Tensor SemanticPrototypes(Tensor instances, Conv1d gate, int numCls, int pttNum, int feaDim)
    {
        using var scope = NewDisposeScope();
        var ins = instances.view(numCls, pttNum, feaDim);
        var gated = gate.forward(ins).sigmoid() * ins;
        return gated.permute(0, 2, 1).mean([2]).MoveToOuterDisposeScope();
    }

    /// <summary>The same reads as <see cref="forward"/> through <see cref="FusedMemoryRead"/> (inference: no
    /// autograd).</summary>
    public (Tensor Sem, Tensor Ins, Tensor Part) ForwardFused(Tensor q)
    {
        using var scope = NewDisposeScope();
        var insProto = InstancePrototypes();
        var semProto = SemanticPrototypes(insProto, reweight_layer_ins, numCls, pttNum, feaDim);
        var (sem, ins, part) = FusedMemoryRead.Read(q, weight, insProto, semProto, get_num_threads());
        return (sem.MoveToOuterDisposeScope(), ins.MoveToOuterDisposeScope(), part.MoveToOuterDisposeScope());
    }

    /// <summary>Rows q (N, C) → (semantic, instance, part) reads, each (N, C).</summary>
    public (Tensor Sem, Tensor Ins, Tensor Part) forward(Tensor q)
    {
        using var scope = NewDisposeScope();
        var part = Read(q, weight);
        var insProto = InstancePrototypes();
        var ins = Read(part, insProto);
        var semProto = SemanticPrototypes(insProto, reweight_layer_ins, numCls, pttNum, feaDim);
        var sem = Read(ins, semProto);
        return (sem.MoveToOuterDisposeScope(), ins.MoveToOuterDisposeScope(), part.MoveToOuterDisposeScope());
    }

    /// <summary>How much each read follows its input: over the rows of q (N, C), the standard deviation of the part,
    /// instance and semantic read divided by q's, averaged over channels. A read near 0 is nearly constant: the stage
    /// that takes it sees almost nothing of the image, and a network must amplify it many times before it can
    /// restore anything (why the memory rows of the ablation start behind, docs/ablation.md).</summary>
    public (double Part, double Ins, double Sem) InputSensitivity(Tensor q)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sem, ins, part) = forward(q.to(ScalarType.Float32));
        var spread = q.to(ScalarType.Float64).std(0);
        double Ratio(Tensor read) => (read.to(ScalarType.Float64).std(0) / spread).mean().item<double>();
        return (Ratio(part), Ratio(ins), Ratio(sem));
    }
}
