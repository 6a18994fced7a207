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

    public static double Exp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709.78) return double.PositiveInfinity;
        if (x < -745.2) return 0.0;
        double k = Math.Round(x * InvLn2);
        double r = (x - k * Ln2Hi) - k * Ln2Lo;
        // Taylor series to degree 15 on |r| <= 0.35 (Horner)
        double p = 1.0 / 1307674368000.0;
        p = p * r + 1.0 / 87178291200.0;
        p = p * r + 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
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
        double p = 1.0 / 23.0;
        for (int n = 21; n >= 1; n -= 2) p = p * s2 + 1.0 / n;
        double lm = 2.0 * s * p;
        return e * Ln2Hi + (lm + e * Ln2Lo);
    }

    public static double Pow(double x, double y)
    {
        if (y == 0) return 1.0;
        if (x == 0) return y > 0 ? 0.0 : double.PositiveInfinity;
        if (x < 0) return double.NaN;
        return Exp(y * Log(x));
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

    static double SinPoly(double r)
    {
        double r2 = r * r;
        double p = -1.0 / 121645100408832000.0;      // -1/19!
        p = p * r2 + 1.0 / 355687428096000.0;         // 1/17!
        p = p * r2 - 1.0 / 1307674368000.0;           // -1/15!
        p = p * r2 + 1.0 / 6227020800.0;              // 1/13!
        p = p * r2 - 1.0 / 39916800.0;                // -1/11!
        p = p * r2 + 1.0 / 362880.0;                  // 1/9!
        p = p * r2 - 1.0 / 5040.0;
        p = p * r2 + 1.0 / 120.0;
        p = p * r2 - 1.0 / 6.0;
        return r + r * r2 * p;
    }

    static double CosPoly(double r)
    {
        double r2 = r * r;
        double p = -1.0 / 6402373705728000.0;         // -1/18!
        p = p * r2 + 1.0 / 20922789888000.0;          // 1/16!
        p = p * r2 - 1.0 / 87178291200.0;             // -1/14!
        p = p * r2 + 1.0 / 479001600.0;               // 1/12!
        p = p * r2 - 1.0 / 3628800.0;                 // -1/10!
        p = p * r2 + 1.0 / 40320.0;                   // 1/8!
        p = p * r2 - 1.0 / 720.0;
        p = p * r2 + 1.0 / 24.0;
        p = p * r2 - 0.5;
        return 1.0 + r2 * p;
    }
}
