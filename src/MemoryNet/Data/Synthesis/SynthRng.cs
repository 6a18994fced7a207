namespace MemoryNet.Data.Synthesis;

/// <summary>
/// A small explicit PRNG (xoshiro256**, seeded through SplitMix64), so that a seed gives the
/// same numbers on every machine and .NET version (System.Random's algorithm is unspecified).
/// Normal deviates use Box–Muller with <see cref="DMath"/>, which uses only IEEE basic operations.
/// </summary>
public sealed class SynthRng
{
    ulong _s0, _s1, _s2, _s3;
    double? _spare;

    public SynthRng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x); _s1 = SplitMix64(ref x); _s2 = SplitMix64(ref x); _s3 = SplitMix64(ref x);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    /// <summary>The generator for item <paramref name="index"/> of a run with <paramref name="seed"/>:
    /// independent of how many items are made or in which order (parallel runs give the same bytes).</summary>
    public static SynthRng ForItem(long seed, long index) => new(ItemSeed(seed, index));

    public static ulong ItemSeed(long seed, long index)
    {
        ulong x = (ulong)seed ^ 0x6A09E667F3BCC909UL;
        ulong a = SplitMix64(ref x);
        ulong y = a ^ ((ulong)index * 0x9E3779B97F4A7C15UL + 0xBB67AE8584CAA73BUL);
        return SplitMix64(ref y);
    }

    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

    public ulong NextU64()
    {
        ulong result = Rotl(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t; _s3 = Rotl(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextU64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>Uniform in [0, 1) as float (24 random bits).</summary>
    public float NextFloat() => (NextU64() >> 40) * (1.0f / 16777216.0f);

    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [lo, hiExclusive).</summary>
    public int Int(int lo, int hiExclusive)
    {
        if (hiExclusive <= lo) throw new ArgumentOutOfRangeException(nameof(hiExclusive));
        ulong range = (ulong)(hiExclusive - lo);
        // Lemire-style rejection for an unbiased result
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong r;
        do r = NextU64(); while (r >= limit);
        return lo + (int)(r % range);
    }

    public bool Chance(double p) => NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[Int(0, items.Count)];

    /// <summary>Standard normal deviate (Box–Muller, deterministic arithmetic).</summary>
    public double Normal()
    {
        if (_spare is double s) { _spare = null; return s; }
        double u1;
        do u1 = NextDouble(); while (u1 <= 0);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * DMath.Log(u1));
        double a = 2.0 * Math.PI * u2;
        _spare = r * DMath.Sin(a);
        return r * DMath.Cos(a);
    }

    public double Normal(double mean, double std) => mean + std * Normal();

    /// <summary>dst.Length standard normal deviates: the numbers, and the state after, of as many calls to
    /// <see cref="Normal()"/>, with the transform a vector of pairs at a time.</summary>
    public void Normals(Span<double> dst)
    {
        int i = 0;
        if (dst.Length > 0 && _spare is double s) { _spare = null; dst[i++] = s; }
        int pairs = (dst.Length - i + 1) / 2;
        if (pairs == 0) return;
        var u1 = new double[pairs];
        var angle = new double[pairs];
        for (int k = 0; k < pairs; k++)
        {
            double u;
            do u = NextDouble(); while (u <= 0);
            u1[k] = u;
            angle[k] = 2.0 * Math.PI * NextDouble();
        }
        var r = u1; // the radius in place of its uniform
        DMath.Log(u1, r);
        for (int k = 0; k < pairs; k++) r[k] = Math.Sqrt(-2.0 * r[k]);
        var sin = new double[pairs];
        var cos = new double[pairs];
        DMath.SinCos(angle, sin, cos);
        for (int k = 0; k < pairs; k++)
        {
            dst[i++] = r[k] * cos[k];
            if (i < dst.Length) dst[i++] = r[k] * sin[k];
            else _spare = r[k] * sin[k];
        }
    }
}
