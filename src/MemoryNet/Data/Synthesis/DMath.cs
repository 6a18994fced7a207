using System.Numerics;

namespace MemoryNet.Data.Synthesis;

/// <summary>
/// exp, log, sin, cos and pow written with IEEE-754 basic operations only (+, −, ×, ÷, sqrt,
/// scaling by powers of two), so that they give the same bits on every machine and C runtime.
/// Accuracy is a few ulp, which is all the synthesis needs; determinism is the point.
/// </summary>
public static class DMath
{
    const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;
    const double InvLn2 = 1.44269504088896338700e+00;
    const double PiO2Hi = 1.57079632673412561417e+00, PiO2Lo = 6.07710050650619224932e-11;
    const double TwoOverPi = 6.36619772367581382433e-01;
    const double Sqrt2 = 1.41421356237309514547;
    const double SmallestNormal = 2.2250738585072014E-308;

    public static double Exp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709.78) return double.PositiveInfinity;
        if (x < -745.2) return 0.0;
        double k = Math.Round(x * InvLn2);
        double r = (x - k * Ln2Hi) - k * Ln2Lo;
        double p = Horner(ExpTaylor, r);
        return Math.ScaleB(p, (int)k);
    }

    public static double Log(double x)
    {
        if (double.IsNaN(x) || x < 0) return double.NaN;
        if (x == 0) return double.NegativeInfinity;
        if (double.IsPositiveInfinity(x)) return x;
        int e = Math.ILogB(x);
        double m = Math.ScaleB(x, -e); // [1, 2)
        if (m > Sqrt2) { m *= 0.5; e++; }
        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        double p = Horner(LogSeries, s2);
        double lm = 2.0 * s * p;
        return e * Ln2Hi + (lm + e * Ln2Lo);
    }

    /// <summary>x to the power y; exactly x for y = 1 (exp(log x) would be a few ulp off: a gamma of 1 must leave a
    /// picture's values as they are).</summary>
    public static double Pow(double x, double y)
    {
        if (y == 0) return 1.0;
        if (y == 1) return x;
        if (x == 0) return y > 0 ? 0.0 : double.PositiveInfinity;
        if (x < 0) return double.NaN;
        return Exp(y * Log(x));
    }

    /// <summary>dst[i] = (float)Pow(src[i], y) for a whole plane: the scalar function's bits, a vector of samples at a
    /// time. Each lane runs the scalar code's operations in the same order (a multiply and an add are never fused,
    /// the exponent is read and set through the bits, which is exact for the normal doubles a float becomes); a vector
    /// holding a sample the lanes do not cover (negative, not finite, or a power outside exp's plain range) takes the
    /// scalar path. src and dst may be the same span.</summary>
    public static void Pow(ReadOnlySpan<float> src, double y, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("dst is shorter than src", nameof(dst));
        if (y == 1) { src.CopyTo(dst); return; }   // the blur family's gamma-1 pairs: no round trip through doubles
        Span<double> chunk = stackalloc double[256];
        for (int i = 0; i < src.Length; i += chunk.Length)
        {
            var part = chunk[..Math.Min(chunk.Length, src.Length - i)];
            for (int j = 0; j < part.Length; j++) part[j] = src[i + j];
            Pow(part, y, part);
            for (int j = 0; j < part.Length; j++) dst[i + j] = (float)part[j];
        }
    }

    /// <summary>dst[i] = Log(src[i]) for a plane, the scalar function's bits (as <see cref="Pow(ReadOnlySpan{float},
    /// double, Span{float})"/>: vectors of positive, finite, normal samples take the vector path). src and dst may be
    /// the same span.</summary>
    public static void Log(ReadOnlySpan<double> src, Span<double> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("dst is shorter than src", nameof(dst));
        int i = 0, n = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
            for (; i <= src.Length - n; i += n)
            {
                var x = new Vector<double>(src[i..]);
                if (IsPlain(x)) LogOfNormal(x).CopyTo(dst[i..]);
                else for (int j = 0; j < n; j++) dst[i + j] = Log(src[i + j]);
            }
        for (; i < src.Length; i++) dst[i] = Log(src[i]);
    }

    /// <summary>sin and cos of a plane, the scalar functions' bits; vectors with a sample beyond ±2^40 or not finite
    /// take the scalar path.</summary>
    public static void SinCos(ReadOnlySpan<double> src, Span<double> sin, Span<double> cos)
    {
        if (sin.Length < src.Length || cos.Length < src.Length)
            throw new ArgumentException("sin or cos is shorter than src");
        int i = 0, n = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var bound = new Vector<double>(Math.ScaleB(1.0, 40));
            for (; i <= src.Length - n; i += n)
            {
                var x = new Vector<double>(src[i..]);
                if (!Vector.LessThanAll(Vector.Abs(x), bound)) // NaN compares false
                {
                    for (int j = 0; j < n; j++) { sin[i + j] = Sin(src[i + j]); cos[i + j] = Cos(src[i + j]); }
                    continue;
                }
                var k = Vector.Round(x * TwoOverPi);
                var r = (x - k * PiO2Hi) - k * PiO2Lo;
                var q = Vector.ConvertToInt64(k) & new Vector<long>(3); // ((k % 4) + 4) % 4 for either sign
                var sp = SinPoly(r);
                var cp = CosPoly(r);
                Quadrant(q, sp, cp).CopyTo(sin[i..]);
                Quadrant((q + Vector<long>.One) & new Vector<long>(3), sp, cp).CopyTo(cos[i..]); // cos x = sin(x + π/2)
            }
        }
        for (; i < src.Length; i++) { sin[i] = Sin(src[i]); cos[i] = Cos(src[i]); }
    }

    /// <summary>sin(x) from the reduced argument's polynomials and the quadrant q: sp, cp, −sp, −cp.</summary>
    static Vector<double> Quadrant(Vector<long> q, Vector<double> sp, Vector<double> cp)
    {
        var odd = Vector.Equals(q & Vector<long>.One, Vector<long>.One);
        var negative = Vector.GreaterThanOrEqual(q, new Vector<long>(2));
        var v = Vector.ConditionalSelect(odd, cp, sp);
        return Vector.ConditionalSelect(negative, -v, v);
    }

    static bool IsPlain(Vector<double> x) =>
        Vector.GreaterThanOrEqualAll(x, new Vector<double>(SmallestNormal))
        && Vector.LessThanAll(x, new Vector<double>(double.PositiveInfinity));

    /// <summary>dst[i] = Pow(src[i], y) for a plane of doubles, as the float overload (src and dst may be the same
    /// span).</summary>
    public static void Pow(ReadOnlySpan<double> src, double y, Span<double> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("dst is shorter than src", nameof(dst));
        if (y == 1) { src.CopyTo(dst); return; }
        int i = 0, n = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated && y != 0)
            for (; i <= src.Length - n; i += n)
            {
                if (TryPow(new Vector<double>(src[i..]), y, out var r)) r.CopyTo(dst[i..]);
                else for (int j = 0; j < n; j++) dst[i + j] = Pow(src[i + j], y);
            }
        for (; i < src.Length; i++) dst[i] = Pow(src[i], y);
    }

    /// <summary><see cref="Pow(double, double)"/> of every lane, when every lane is a normal double the vector path
    /// covers (y ≠ 0).</summary>
    static bool TryPow(Vector<double> x, double y, out Vector<double> result)
    {
        // 0^y is 0 for y > 0: those lanes compute with 1 and are set to 0 after
        var zero = y > 0 ? Vector.Equals(x, Vector<double>.Zero) : Vector<long>.Zero;
        x = Vector.ConditionalSelect(zero, Vector<double>.One, x);
        var t = new Vector<double>(y) * LogOfNormal(x);
        result = default;
        if (!(IsPlain(x)
              && Vector.GreaterThanOrEqualAll(t, new Vector<double>(-700))
              && Vector.LessThanOrEqualAll(t, new Vector<double>(700))))
            return false;
        result = Vector.ConditionalSelect(zero, Vector<double>.Zero, ExpPlain(t));
        return true;
    }

    /// <summary><see cref="Log"/> of positive, finite, normal lanes.</summary>
    static Vector<double> LogOfNormal(Vector<double> x)
    {
        var bits = Vector.AsVectorInt64(x);
        var e = Vector.ConvertToDouble(((bits >>> 52) & new Vector<long>(0x7FF)) - new Vector<long>(1023));
        var m = Vector.AsVectorDouble((bits & new Vector<long>(0x000F_FFFF_FFFF_FFFF))
            | new Vector<long>(0x3FF0_0000_0000_0000)); // [1, 2)
        var big = Vector.GreaterThan(m, new Vector<double>(Sqrt2));
        m = Vector.ConditionalSelect(big, m * 0.5, m);
        e = Vector.ConditionalSelect(big, e + Vector<double>.One, e);
        var s = (m - Vector<double>.One) / (m + Vector<double>.One);
        var s2 = s * s;
        var p = Horner(LogSeries, s2);
        var lm = 2.0 * s * p;
        return e * Ln2Hi + (lm + e * Ln2Lo);
    }

    /// <summary><see cref="Exp"/> of lanes in [−700, 700], where 2^k is a normal double and scaling by it is
    /// exact.</summary>
    static Vector<double> ExpPlain(Vector<double> x)
    {
        var k = Vector.Round(x * InvLn2);
        var r = (x - k * Ln2Hi) - k * Ln2Lo;
        var p = Horner(ExpTaylor, r);
        var twoToK = Vector.AsVectorDouble((Vector.ConvertToInt64(k) + new Vector<long>(1023)) << 52);
        return p * twoToK;
    }

    public static double Sin(double x) => SinCos(x, sin: true);
    public static double Cos(double x) => SinCos(x, sin: false);

    static double SinCos(double x, bool sin)
    {
        if (double.IsNaN(x) || double.IsInfinity(x)) return double.NaN;
        double k = Math.Round(x * TwoOverPi);
        double r = (x - k * PiO2Hi) - k * PiO2Lo; // |r| <= pi/4 (+ tiny)
        long q = ((long)k % 4 + 4) % 4;
        if (!sin) q = (q + 1) % 4; // cos x = sin(x + pi/2)
        return q switch
        {
            0 => SinPoly(r),
            1 => CosPoly(r),
            2 => -SinPoly(r),
            _ => -CosPoly(r),
        };
    }

    static double SinPoly(double r) { double r2 = r * r; return r + r * r2 * Horner(SinTaylor, r2); }
    static double CosPoly(double r) { double r2 = r * r; return 1.0 + r2 * Horner(CosTaylor, r2); }
    static Vector<double> SinPoly(Vector<double> r) { var r2 = r * r; return r + r * r2 * Horner(SinTaylor, r2); }
    static Vector<double> CosPoly(Vector<double> r)
    {
        var r2 = r * r;
        return Vector<double>.One + r2 * Horner(CosTaylor, r2);
    }

    // Polynomial coefficients, highest degree first, for Horner's rule in the scalar and the vector functions alike.
    // A negative coefficient added gives the bits of its magnitude subtracted (IEEE defines x − c as x + (−c)).

    /// <summary>exp(r) on |r| ≤ 0.35: Taylor to degree 15.</summary>
    static readonly double[] ExpTaylor =
    [
        1.0 / 1307674368000.0, 1.0 / 87178291200.0, 1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0,
        1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0,
        0.5, 1.0, 1.0,
    ];

    /// <summary>log m = 2s(1 + s²/3 + s⁴/5 + … + s²²/23), s = (m − 1)/(m + 1): the series in s².</summary>
    static readonly double[] LogSeries =
    [
        1.0 / 23.0, 1.0 / 21.0, 1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0,
        1.0 / 5.0, 1.0 / 3.0, 1.0,
    ];

    /// <summary>sin r = r + r³ · p(r²), Taylor to degree 19.</summary>
    static readonly double[] SinTaylor =
    [
        -1.0 / 121645100408832000.0, 1.0 / 355687428096000.0, -1.0 / 1307674368000.0, 1.0 / 6227020800.0,
        -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0,
    ];

    /// <summary>cos r = 1 + r² · p(r²), Taylor to degree 18.</summary>
    static readonly double[] CosTaylor =
    [
        -1.0 / 6402373705728000.0, 1.0 / 20922789888000.0, -1.0 / 87178291200.0, 1.0 / 479001600.0,
        -1.0 / 3628800.0, 1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0, -0.5,
    ];

    static double Horner(double[] c, double x)
    {
        double p = c[0];
        for (int i = 1; i < c.Length; i++) p = p * x + c[i];
        return p;
    }

    static Vector<double> Horner(double[] c, Vector<double> x)
    {
        var p = new Vector<double>(c[0]);
        for (int i = 1; i < c.Length; i++) p = p * x + new Vector<double>(c[i]);
        return p;
    }
}
