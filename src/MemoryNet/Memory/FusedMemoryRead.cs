using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace MemoryNet.Memory;

/// <summary>
/// The memory unit's three reads (part → instance → semantic) for inference, fused per pixel: 16 rows at a time in
/// AVX-512 lanes, every row's item scores kept in registers and L1 instead of (rows × items) tensors. The tensor
/// version (<see cref="MemoryUnit.Read"/>) makes about ten passes over a 65,536 × 100 fp32 matrix per 256² image
/// (~100 ms on 2 cores); this one reads each pixel once. Same arithmetic: softmax, the shrink
/// relu(a − λ)·a / (|a − λ| + 1e-12), L1 normalisation with a 1e-12 floor, then the weighted sum of the items.
/// </summary>
[SkipLocalsInit]
public static class FusedMemoryRead
{
    /// <summary>Feature widths this path takes (the input memory reads RGB, 3); wider memories use the tensor
    /// path.</summary>
    public const int MaxChannels = 8;

    const int Lanes = 16;
    const int RowsPerTask = 1024;

    public static bool Applies(Tensor rows) =>
        rows.dtype == ScalarType.Float32 && rows.dim() == 2 && rows.shape[1] <= MaxChannels
            && Vector512.IsHardwareAccelerated;

    /// <summary>Rows (N, C) → (semantic, instance, part) reads, each (N, C), given the three item sets (K,
    /// C).</summary>
    public static (Tensor Sem, Tensor Ins, Tensor Part) Read(Tensor rows, Tensor partItems, Tensor insItems,
        Tensor semItems, int threads)
    {
        int n = checked((int)rows.shape[0]), c = (int)rows.shape[1];
        var q = ToArray(rows);
        var (pm, im, sm) = (ToArray(partItems), ToArray(insItems), ToArray(semItems));
        var sem = new float[q.Length];
        var ins = new float[q.Length];
        var part = new float[q.Length];
        int tasks = (n + RowsPerTask - 1) / RowsPerTask;
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
            t => Rows(q, t * RowsPerTask, Math.Min(n, (t + 1) * RowsPerTask), c, pm, im, sm, sem, ins, part));
        return (FromArray(sem, n, c), FromArray(ins, n, c), FromArray(part, n, c));
    }

    /// <summary>One read, address(q, M)·M, of rows q (N, C) from items M (K, C): the training path's forward
    /// (<see cref="FusedMemoryReadFunction"/>).</summary>
    public static Tensor ReadOne(Tensor rows, Tensor items, int threads)
    {
        int n = checked((int)rows.shape[0]), c = (int)rows.shape[1];
        var q = ToArray(rows);
        var m = ToArray(items);
        var result = new float[q.Length];
        int tasks = (n + RowsPerTask - 1) / RowsPerTask;
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, t =>
        {
            Span<Vector512<float>> a = stackalloc Vector512<float>[MaxChannels];
            Span<Vector512<float>> b = stackalloc Vector512<float>[MaxChannels];
            Span<float> lane = stackalloc float[Lanes];
            for (int r = t * RowsPerTask, end = Math.Min(n, (t + 1) * RowsPerTask); r < end; r += Lanes)
            {
                int count = Math.Min(Lanes, end - r);
                Load(q, r, count, c, a, lane);
                ReadOnce(a[..c], m, c, b[..c]);
                Store(b[..c], result, r, count, c, lane);
            }
        });
        return FromArray(result, n, c);
    }

    /// <summary>The gradients (dq (N, C), dM (K, C)) of <see cref="ReadOne"/> given the gradient of its output, the
    /// addressing recomputed row by row.</summary>
    public static (Tensor Dq, Tensor DItems) ReadOneBackward(Tensor rows, Tensor items, Tensor gradOutput, int threads)
    {
        int n = checked((int)rows.shape[0]), c = (int)rows.shape[1];
        var q = ToArray(rows);
        var m = ToArray(items);
        var g = ToArray(gradOutput);
        int k = m.Length / c;
        var dq = new float[q.Length];
        int tasks = (n + RowsPerTask - 1) / RowsPerTask;
        var partial = new float[tasks][];
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, t =>
            partial[t] = BackwardRows(q, m, g, dq, t * RowsPerTask, Math.Min(n, (t + 1) * RowsPerTask), c, k));
        var dm = new float[m.Length];
        foreach (var p in partial)
            for (int i = 0; i < dm.Length; i++) dm[i] += p[i];
        return (FromArray(dq, n, c), FromArray(dm, k, c));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float[] BackwardRows(float[] q, float[] m, float[] g, float[] dq, int start, int end, int c, int k)
    {
        // dM summed in lanes over the rows, across the lanes at the end
        var dmLanes = new Vector512<float>[k * c];
        Span<Vector512<float>> query = stackalloc Vector512<float>[MaxChannels];
        Span<Vector512<float>> grad = stackalloc Vector512<float>[MaxChannels];
        Span<Vector512<float>> dquery = stackalloc Vector512<float>[MaxChannels];
        Span<float> lane = stackalloc float[Lanes];
        Span<Vector512<float>> addr = k <= 256 ? stackalloc Vector512<float>[k] : new Vector512<float>[k];
        Span<Vector512<float>> kept = k <= 256 ? stackalloc Vector512<float>[k] : new Vector512<float>[k];
        Span<Vector512<float>> dn = k <= 256 ? stackalloc Vector512<float>[k] : new Vector512<float>[k];
        for (int r = start; r < end; r += Lanes)
        {
            int count = Math.Min(Lanes, end - r);
            Load(q, r, count, c, query, lane);
            Load(g, r, count, c, grad, lane); // padding lanes get a zero gradient: they add nothing to dM
            BackwardOnce(query[..c], m, grad[..c], c, k, addr, kept, dn, dmLanes, dquery[..c]);
            Store(dquery[..c], dq, r, count, c, lane);
        }
        var dm = new float[k * c];
        for (int i = 0; i < dm.Length; i++) dm[i] = Vector512.Sum(dmLanes[i]);
        return dm;
    }

    /// <summary>
    /// The backward of one read for 16 queries. Forward: L = qMᵀ, a = softmax(L), s = a − λ,
    /// h = relu(s)·a / (|s| + ε), n = h / max(Σh, ε), out = nM. Backward: dn = dout·Mᵀ, dM += nᵀ·dout;
    /// dh = (dn − Σ dn·n) / max(Σh, ε) (the Σ term only above the floor); da = dh·h′(a) with
    /// h′ = (a + s)/(s + ε) − s·a/(s + ε)² where s &gt; 0, else 0; dL = a·(da − Σ da·a); dq = dL·M, dM += dLᵀ·q.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void BackwardOnce(ReadOnlySpan<Vector512<float>> query, float[] items, ReadOnlySpan<Vector512<float>> grad,
        int c, int k, Span<Vector512<float>> addr, Span<Vector512<float>> kept, Span<Vector512<float>> dn,
        Vector512<float>[] dmLanes, Span<Vector512<float>> dquery)
    {
        var total = Address(query, items, c, k, addr, kept);
        var lambda = Vector512.Create((float)MemoryUnit.ShrinkThreshold);
        var tiny = Vector512.Create(1e-12f);
        var norm = Vector512.Max(total, tiny);
        var aboveFloor = Vector512.GreaterThan(total, tiny);
        // dn_j = Σ_c dout_c M_jc; dM += n_j dout_c; the Σ dn·n of the normalisation's backward
        var dot = Vector512<float>.Zero;
        for (int j = 0; j < k; j++)
        {
            var nj = kept[j] / norm;
            var d = Vector512<float>.Zero;
            for (int ch = 0; ch < c; ch++)
            {
                d = Vector512.FusedMultiplyAdd(grad[ch], Vector512.Create(items[j * c + ch]), d);
                dmLanes[j * c + ch] = Vector512.FusedMultiplyAdd(nj, grad[ch], dmLanes[j * c + ch]);
            }
            dn[j] = d;
            dot = Vector512.FusedMultiplyAdd(d, nj, dot);
        }
        dot = Vector512.ConditionalSelect(aboveFloor, dot, Vector512<float>.Zero);
        // da_j = dh_j h′(a_j), and the softmax's Σ da·a
        var adot = Vector512<float>.Zero;
        for (int j = 0; j < k; j++)
        {
            var a = addr[j];
            var s = a - lambda;
            var den = s + tiny;
            var slope = (a + s) / den - s * a / (den * den);
            slope = Vector512.ConditionalSelect(Vector512.GreaterThan(s, Vector512<float>.Zero), slope,
                Vector512<float>.Zero);
            var da = (dn[j] - dot) / norm * slope;
            dn[j] = da;
            adot = Vector512.FusedMultiplyAdd(da, a, adot);
        }
        for (int ch = 0; ch < c; ch++) dquery[ch] = Vector512<float>.Zero;
        for (int j = 0; j < k; j++)
        {
            var dl = addr[j] * (dn[j] - adot);
            for (int ch = 0; ch < c; ch++)
            {
                dquery[ch] = Vector512.FusedMultiplyAdd(dl, Vector512.Create(items[j * c + ch]), dquery[ch]);
                dmLanes[j * c + ch] = Vector512.FusedMultiplyAdd(dl, query[ch], dmLanes[j * c + ch]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Load(float[] src, int r, int count, int c, Span<Vector512<float>> dst, Span<float> lane)
    {
        for (int ch = 0; ch < c; ch++)
        {
            lane.Clear();
            for (int i = 0; i < count; i++) lane[i] = src[(r + i) * c + ch];
            dst[ch] = Vector512.Create<float>(lane);
        }
    }

    static float[] ToArray(Tensor t)
    {
        using var contiguous = t.detach().contiguous();
        // a copy of the tensor's memory (TensorAccessor.ToArray copies element by element: ~3 ms for 65,536 × 3)
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(contiguous.bytes).ToArray();
    }

    static Tensor FromArray(float[] data, int n, int c) => tensor(data, [n, c]);

    // fully optimised from the first call: an image makes one call, too few for tiered compilation to get there
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows(float[] q, int start, int end, int c, float[] pm, float[] im, float[] sm, float[] sem, float[] ins,
        float[] part)
    {
        for (int r = start; r < end; r += Lanes)
            Block(q, r, Math.Min(Lanes, end - r), c, pm, im, sm, sem, ins, part);
    }

    /// <summary>Rows r .. r+count (count ≤ 16) through the three reads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block(float[] q, int r, int count, int c, float[] pm, float[] im, float[] sm, float[] sem, float[] ins,
        float[] part)
    {
        Span<Vector512<float>> a = stackalloc Vector512<float>[MaxChannels];
        Span<Vector512<float>> b = stackalloc Vector512<float>[MaxChannels];
        Span<float> lane = stackalloc float[Lanes];
        Load(q, r, count, c, a, lane);
        var query = a[..c];
        var read = b[..c];
        ReadOnce(query, pm, c, read);       // part read of the input
        Store(read, part, r, count, c, lane);
        ReadOnce(read, im, c, query);       // instance read of the part read
        Store(query, ins, r, count, c, lane);
        ReadOnce(query, sm, c, read);       // semantic read of the instance read
        Store(read, sem, r, count, c, lane);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Store(Span<Vector512<float>> v, float[] dst, int r, int count, int c, Span<float> lane)
    {
        for (int ch = 0; ch < c; ch++)
        {
            v[ch].CopyTo(lane);
            for (int i = 0; i < count; i++) dst[(r + i) * c + ch] = lane[i];
        }
    }

    /// <summary>
    /// e^x for x ≤ 0 (Cephes' expf: x = n·ln 2 + r, a degree-6 polynomial for e^r, 2^n put into the exponent bits;
    /// relative error about 1e-7; below −87.3 it returns e^−87.3, far under any softmax weight that survives the
    /// shrink). Written out rather than Vector512.Exp: that is a library method, and with tiered compilation its
    /// precompiled copy ran this kernel 2–3× slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        x = Vector512.Max(x, Vector512.Create(-87.3f));
        var n = Vector512.Floor(x * Vector512.Create(1.44269504f) + Vector512.Create(0.5f));
        var r = x - n * Vector512.Create(0.693359375f) + n * Vector512.Create(2.12194440e-4f);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        var e = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return e * scale;
    }

    /// <summary>The addressing of 16 queries over the K items: <paramref name="softmax"/> = softmax(qMᵀ) and
    /// <paramref name="kept"/> = its shrink relu(a − λ)·a / (|a − λ| + 1e-12); returns Σ kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Vector512<float> Address(ReadOnlySpan<Vector512<float>> query, float[] items, int c, int k,
        Span<Vector512<float>> softmax, Span<Vector512<float>> kept)
    {
        var max = Vector512.Create(float.NegativeInfinity);
        for (int j = 0; j < k; j++)
        {
            var s = Vector512<float>.Zero;
            for (int ch = 0; ch < c; ch++)
                s = Vector512.FusedMultiplyAdd(query[ch], Vector512.Create(items[j * c + ch]), s);
            softmax[j] = s;
            max = Vector512.Max(max, s);
        }
        var sum = Vector512<float>.Zero;
        for (int j = 0; j < k; j++)
        {
            var e = ExpNonPositive(softmax[j] - max);
            softmax[j] = e;
            sum += e;
        }
        var lambda = Vector512.Create((float)MemoryUnit.ShrinkThreshold);
        var tiny = Vector512.Create(1e-12f);
        var total = Vector512<float>.Zero;
        for (int j = 0; j < k; j++)
        {
            var a = softmax[j] / sum;
            softmax[j] = a;
            var shifted = a - lambda;
            var h = Vector512.Max(shifted, Vector512<float>.Zero) * a / (Vector512.Abs(shifted) + tiny);
            kept[j] = h;
            total += h;
        }
        return total;
    }

    /// <summary>address(q, M)·M for 16 queries: softmax over the K items, shrink, L1-normalise, weighted
    /// sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ReadOnce(ReadOnlySpan<Vector512<float>> query, float[] items, int c, Span<Vector512<float>> result)
    {
        int k = items.Length / c;
        Span<Vector512<float>> softmax = k <= 256 ? stackalloc Vector512<float>[k] : new Vector512<float>[k];
        Span<Vector512<float>> kept = k <= 256 ? stackalloc Vector512<float>[k] : new Vector512<float>[k];
        var total = Address(query, items, c, k, softmax, kept);
        var norm = Vector512.Max(total, Vector512.Create(1e-12f));
        for (int ch = 0; ch < c; ch++) result[ch] = Vector512<float>.Zero;
        for (int j = 0; j < k; j++)
        {
            var w = kept[j] / norm;
            for (int ch = 0; ch < c; ch++)
                result[ch] = Vector512.FusedMultiplyAdd(w, Vector512.Create(items[j * c + ch]), result[ch]);
        }
    }
}
