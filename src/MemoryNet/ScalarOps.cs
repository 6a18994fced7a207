using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet;

/// <summary>
/// Tensor–number operations that keep the native <see cref="Scalar"/> alive until the call returns.
/// TorchSharp's implicit double→Scalar temporaries are not tracked by dispose scopes and have a
/// finalizer, so under GC pressure (several images scored in parallel, data-parallel training) the finalizer can
/// free one during the native call ("Unknown scalar type", or "Expected false to be true" from Scalar::toFloat).
/// That includes the alpha of 1 that TorchSharp's add(Scalar), add_(Scalar) and add_(Tensor) make for themselves:
/// every add here passes <see cref="One"/>. Library code uses these instead of operators and one-argument adds.
/// </summary>
public static class ScalarOps
{
    public static Tensor MulK(this Tensor x, double v) { using var s = v.ToScalar(); return x.mul(s); }
    public static Tensor MulK_(this Tensor x, double v) { using var s = v.ToScalar(); return x.mul_(s); }
    public static Tensor AddK(this Tensor x, double v) { using var s = v.ToScalar(); return x.add(s, One); }
    public static Tensor AddK_(this Tensor x, double v) { using var s = v.ToScalar(); return x.add_(s, One); }
    public static Tensor DivK(this Tensor x, double v) { using var s = v.ToScalar(); return x.div(s); }
    public static Tensor DivK_(this Tensor x, double v) { using var s = v.ToScalar(); return x.div_(s); }
    public static Tensor PowK(this Tensor x, double v) { using var s = v.ToScalar(); return x.pow(s); }
    public static Tensor PowK_(this Tensor x, double v) { using var s = v.ToScalar(); return x.pow_(s); }
    public static Tensor SubK(this Tensor x, double v) { using var s = v.ToScalar(); return x.sub(s); }
    public static Tensor ClampK(this Tensor x, double lo, double hi)
    {
        using var a = lo.ToScalar(); using var b = hi.ToScalar(); return x.clamp(a, b);
    }
    public static Tensor GtK(this Tensor x, double v) { using var s = v.ToScalar(); return x.gt(s); }
    public static Tensor Clamp255_(this Tensor x)
    {
        using var lo = 0.0.ToScalar(); using var hi = 255.0.ToScalar(); return x.clamp_(lo, hi);
    }
    /// <summary>
    /// 1, alive for the whole process. Tensor + Tensor in TorchSharp is add(other, alpha: 1) with an implicit Scalar
    /// that is unreachable during the native call; with data workers allocating on other threads, a GC then can
    /// finalize it mid-call (libtorch: "Expected false to be true" from Scalar::toFloat in add). Use
    /// <see cref="Plus"/>.
    /// </summary>
    public static readonly Scalar One = 1.0.ToScalar();
    /// <summary>x + other, with an alpha that cannot be finalized during the call.</summary>
    public static Tensor Plus(this Tensor x, Tensor other) => x.add(other, One);
    /// <summary>x += other, in place, with an alpha that cannot be finalized during the call.</summary>
    public static Tensor Plus_(this Tensor x, Tensor other) => x.add_(other, One);
    /// <summary>x += alpha · other</summary>
    public static Tensor AddScaled_(this Tensor x, Tensor other, double alpha)
    {
        using var s = alpha.ToScalar(); return x.add_(other, s);
    }
}
