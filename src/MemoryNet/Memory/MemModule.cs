using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Memory;

/// <summary>
/// Applies the memory unit to every pixel: (B, C, H, W) → rows (B·H·W, C) → three (B, C, H, W) reads.
/// Without gradients (inference) an RGB memory reads through <see cref="FusedMemoryRead"/>; wider ones go through in
/// chunks of <see cref="InferenceChunkRows"/>: every read is row-wise, so the result is the same, and the (rows ×
/// items) addressing temporaries (about 4 KB per pixel for the 100-item memory) stay bounded instead of growing with
/// the image.
/// </summary>
public sealed class MemModule : nn.Module
{
    private readonly MemoryUnit memory;

    public MemModule(int pttNum, int numCls, int partNum, int feaDim) : base(nameof(MemModule))
    {
        memory = new MemoryUnit(pttNum, numCls, partNum, feaDim);
        RegisterComponents();
    }

    public MemoryUnit Unit => memory;

    /// <summary>The mean of the three reads (the reference computes it as 'tpt' but returns the reads
    /// separately).</summary>
    public Tensor ReadMean(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (sem, ins, part) = forward(x);
        return sem.Plus(ins).Plus(part).DivK(3).MoveToOuterDisposeScope();
    }

    /// <summary>Rows per chunk when running without gradients.</summary>
    public const long InferenceChunkRows = 16384;

    public (Tensor Sem, Tensor Ins, Tensor Part) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var rows = x.permute(0, 2, 3, 1).reshape(-1, c).to(memory.Items.dtype); // cheap when x is channels-last
        long n = rows.shape[0];
        Tensor sem, ins, part;
        if (!is_grad_enabled() && FusedMemoryRead.Applies(rows)) (sem, ins, part) = memory.ForwardFused(rows);
        else if (is_grad_enabled() || n <= InferenceChunkRows) (sem, ins, part) = memory.forward(rows);
        else
        {
            var sems = new List<Tensor>(); var inss = new List<Tensor>(); var parts = new List<Tensor>();
            for (long i = 0; i < n; i += InferenceChunkRows)
            {
                using var chunkScope = NewDisposeScope();
                var (s, k, p) = memory.forward(rows.narrow(0, i, Math.Min(InferenceChunkRows, n - i)));
                sems.Add(s.MoveToOuterDisposeScope()); inss.Add(k.MoveToOuterDisposeScope());
                parts.Add(p.MoveToOuterDisposeScope());
            }
            sem = cat(sems, 0); ins = cat(inss, 0); part = cat(parts, 0);
        }
        // back to (B, C, H, W) with NHWC strides (no copy); convolutions take either layout
        Tensor Back(Tensor r) => r.view(b, h, w, c).permute(0, 3, 1, 2).to(x.dtype).MoveToOuterDisposeScope();
        return (Back(sem), Back(ins), Back(part));
    }
}
