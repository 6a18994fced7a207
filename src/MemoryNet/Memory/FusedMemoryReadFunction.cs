using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace MemoryNet.Memory;

/// <summary>
/// One memory read, address(q, M)·M, as an autograd function for training: the forward and the backward fused per
/// pixel like <see cref="FusedMemoryRead"/> (16 rows in AVX-512 lanes, each row's item scores in registers and L1).
/// The tensor version makes about ten passes over a (rows × items) matrix forward and as many backward; at a training
/// batch of 2 × 128² that was a third of a memorynet-s step. The backward recomputes the addressing from q and M
/// instead of saving it, and its formulas are autograd's for the tensor version, including the subgradients at the
/// shrink's threshold (relu′(0) = 0) and at the L1 norm's floor (clamp_min's).
/// </summary>
public sealed class FusedMemoryReadFunction : SingleTensorFunction<FusedMemoryReadFunction>
{
    public override string Name => nameof(FusedMemoryReadFunction);

    /// <summary>Rows q (N, C) and items M (K, C), fp32, C ≤ <see cref="FusedMemoryRead.MaxChannels"/>.</summary>
    public static Tensor Read(Tensor q, Tensor items) => apply(q, items);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var q = (Tensor)vars[0];
        var m = (Tensor)vars[1];
        ctx.save_for_backward([q, m]);
        return FusedMemoryRead.ReadOne(q, m, get_num_threads());
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var (dq, dm) = FusedMemoryRead.ReadOneBackward(saved[0], saved[1], gradOutput, get_num_threads());
        return [dq, dm];
    }
}
