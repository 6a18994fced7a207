using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace MemoryNet.Kernels;

/// <summary>
/// 3×3 "same" convolution (stride 1, zero padding 1) of a channels-last fp32 batch by Winograd's F(4×4, 3×3)
/// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 4×4 block of outputs is
/// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A over the 6×6 input tile d, so a 3×3 convolution costs 36 multiplications per 16
/// outputs per channel pair instead of 144. The 36 element-wise products over the channels are 36 matrix products
/// (tiles × Cin)·(Cin × Cout), done by <see cref="GemmKernels"/> on blocks of tiles that stay in cache; the input
/// and output transforms are vectorised over 16 channels. For inference only (no autograd); error a few 1e-6 of the
/// output's largest value, against 1e-6 for libtorch's direct convolution (tests/Kernels).
/// </summary>
public static unsafe class Winograd3x3
{
    /// <summary>Off with MEMORYNET_CONV=direct (then every convolution is libtorch's).</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("MEMORYNET_CONV") != "direct";

    const int Tile = 4, In = 6, P = 36, Rows = 6;
    const int BlockTiles = 18; // tiles per cache block: a multiple of the 6 rows of the matrix kernel

    /// <summary>Whether <see cref="Forward"/> takes this convolution: fp32, 3×3, no autograd, AVX-512, and where it
    /// pays (measured at 2 threads against libtorch's direct convolution: 1.9–2.1× faster at 40–56 channels on
    /// 256² maps, level at 16–32 channels, slower at 8–12 channels and on maps of 32² or less, where the per-call
    /// weight transform and the part-filled tile blocks dominate): at least 32 channels in and out and 64² pixels per
    /// image.</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Enabled && Avx512F.IsSupported && !is_grad_enabled() && x.dtype == ScalarType.Float32
            && weight.dtype == ScalarType.Float32
        && x.device_type == TorchSharp.DeviceType.CPU && x.dim() == 4 && weight.shape[2] == 3 && weight.shape[3] == 3
        && x.shape[1] >= 32 && weight.shape[0] >= 32 && x.shape[2] * x.shape[3] >= 64 * 64;

    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);

    static float* Data(Tensor t) => (float*)THSTensor_data(t.Handle);

    /// <summary>y = conv3×3(x, weight) + bias for x (N, Cin, H, W) with NHWC strides; y has NHWC strides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, int threads)
    {
        if (!Modules.ChannelsLast.Is(x)) throw new ArgumentException("Winograd3x3 needs a channels-last input");
        int n = (int)x.shape[0], cin = (int)x.shape[1], h = (int)x.shape[2], w = (int)x.shape[3];
        int cout = (int)weight.shape[0];
        if (weight.shape[1] != cin)
            throw new ArgumentException($"weight has {weight.shape[1]} input channels, input {cin}");
        int coutP = (cout + 15) / 16 * 16, cinP = (cin + 15) / 16 * 16;
        var pool = System.Buffers.ArrayPool<float>.Shared;
        var u = pool.Rent(P * cin * coutP);
        var b = pool.Rent(coutP);
        try { return Run(x, weight, bias, threads, n, cin, h, w, cout, cinP, coutP, u, b); }
        finally { pool.Return(u); pool.Return(b); }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Tensor Run(Tensor x, Tensor weight, Tensor? bias, int threads, int n, int cin, int h, int w, int cout,
        int cinP, int coutP, float[] u, float[] b)
    {
        TransformWeights(weight, cin, cout, coutP, u);
        Array.Clear(b, 0, coutP); // zero-padded to whole vectors
        if (bias is not null)
        {
            using var bc = bias.detach().contiguous(); MemoryMarshal.Cast<byte, float>(bc.bytes).CopyTo(b);
        }
        using var nhwc = empty(n, h, w, cout);
        var y = nhwc.permute(0, 3, 1, 2); // holds the storage itself: the NHWC handle must not outlive this call
        float* xp = Data(x), yp = Data(y);
        int tilesY = (h + Tile - 1) / Tile, tilesX = (w + Tile - 1) / Tile;
        var shape = new Shape(n, h, w, cin, cinP, cout, coutP, tilesX);
        fixed (float* up = u, bp = b)
        {
            float* upp = up, bpp = bp; // fixed locals cannot be captured
            int rowsTotal = n * tilesY, parts = Math.Max(1, Math.Min(threads, rowsTotal));
            // one contiguous band of tile rows per thread: no scheduling per row, and each thread's input stays its own
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
            {
                var scratch = Scratch.For(cinP, coutP);
                for (int row = (int)((long)rowsTotal * part / parts),
                    end = (int)((long)rowsTotal * (part + 1) / parts); row < end; row++)
                    TileRow(xp, yp, upp, bpp, shape, row / tilesY, row % tilesY, scratch);
            });
        }
        return y;
    }

    readonly record struct Shape(int N, int H, int W, int Cin, int CinP, int Cout, int CoutP, int TilesX);

    /// <summary>Per-thread buffers, V (36 × tiles × CinP) and M (36 × tiles × CoutP), 64-byte aligned, kept for the
    /// thread's life (a few hundred KB) so that no call pays for fresh pages.</summary>
    sealed class Scratch
    {
        [ThreadStatic] static Scratch? current;
        public float* V { get; private set; }
        public float* M { get; private set; }
        int vFloats, mFloats;

        public static Scratch For(int cinP, int coutP)
        {
            var s = current ??= new Scratch();
            s.Ensure(P * BlockTiles * cinP, P * BlockTiles * coutP);
            return s;
        }

        void Ensure(int v, int m)
        {
            if (v > vFloats)
            {
                NativeMemory.AlignedFree(V);
                V = (float*)NativeMemory.AlignedAlloc((nuint)v * sizeof(float), 64);
                vFloats = v;
            }
            if (m > mFloats)
            {
                NativeMemory.AlignedFree(M);
                M = (float*)NativeMemory.AlignedAlloc((nuint)m * sizeof(float), 64);
                mFloats = m;
            }
        }
    }

    /// <summary>U[p][ci][co] = (G g Gᵀ)[p] for every filter g = weight[co, ci], output channels padded with zeros to
    /// coutP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TransformWeights(Tensor weight, int cin, int cout, int coutP, float[] u)
    {
        // (Cin, 3, 3, Cout): 16 output channels of one tap are adjacent, and U's rows are along the output channels
        using var wt = weight.detach().permute(1, 2, 3, 0).contiguous();
        ReadOnlySpan<float> g = MemoryMarshal.Cast<byte, float>(wt.bytes); // the tensor's own memory
        Span<float> lanes = stackalloc float[16];
        var tap = new Vector512<float>[9];
        var gg = new Vector512<float>[18];
        for (int ci = 0; ci < cin; ci++)
            for (int co = 0; co < coutP; co += 16)
            {
                int cnt = Math.Min(16, cout - co); // U's padding channels come out zero
                for (int k = 0; k < 9; k++)
                {
                    lanes.Clear();
                    g.Slice((ci * 9 + k) * cout + co, cnt).CopyTo(lanes);
                    tap[k] = Vector512.Create<float>(lanes);
                }
                for (int c = 0; c < 3; c++) // G g: G down each column of g
                    ApplyG(tap[c], tap[3 + c], tap[6 + c], out gg[c], out gg[3 + c], out gg[6 + c], out gg[9 + c],
                        out gg[12 + c], out gg[15 + c]);
                for (int r = 0; r < In; r++) // (G g) Gᵀ: G across each row of G g
                {
                    ApplyG(gg[r * 3], gg[r * 3 + 1], gg[r * 3 + 2], out var e0, out var e1, out var e2, out var e3,
                        out var e4, out var e5);
                    int at = (r * In * cin + ci) * coutP + co, step = cin * coutP; // p = 6r + c
                    e0.CopyTo(u, at); e1.CopyTo(u, at + step); e2.CopyTo(u, at + 2 * step);
                    e3.CopyTo(u, at + 3 * step); e4.CopyTo(u, at + 4 * step); e5.CopyTo(u, at + 5 * step);
                }
            }
    }

    /// <summary>The six rows of G applied to (g0, g1, g2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ApplyG(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2,
        out Vector512<float> e0, out Vector512<float> e1, out Vector512<float> e2, out Vector512<float> e3,
        out Vector512<float> e4, out Vector512<float> e5)
    {
        var sixth = Vector512.Create(1f / 6);
        var outer = g0 * Vector512.Create(1f / 24) + g2 * sixth;
        var middle = g1 * Vector512.Create(1f / 12);
        e0 = g0 * Vector512.Create(1f / 4);
        e1 = -(g0 + g1 + g2) * sixth;
        e2 = -(g0 - g1 + g2) * sixth;
        e3 = outer + middle;
        e4 = outer - middle;
        e5 = g2;
    }

    /// <summary>One row of 4×4 output tiles of one image, in blocks of <see cref="BlockTiles"/> tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileRow(float* x, float* y, float* u, float* bias, Shape s, int img, int ty, Scratch scratch)
    {
        float* xi = x + (long)img * s.H * s.W * s.Cin;
        float* yi = y + (long)img * s.H * s.W * s.Cout;
        for (int tx0 = 0; tx0 < s.TilesX; tx0 += BlockTiles)
        {
            int count = Math.Min(BlockTiles, s.TilesX - tx0);
            int rows = (count + Rows - 1) / Rows * Rows;
            for (int t = 0; t < count; t++)
                InputTransform(xi, s, ty * Tile - 1, (tx0 + t) * Tile - 1, scratch.V + t * s.CinP, BlockTiles * s.CinP);
            for (int t = count; t < rows; t++) ClearTile(scratch.V + t * s.CinP, BlockTiles * s.CinP, s.CinP);
            for (int p = 0; p < P; p++)
            {
                float* v = scratch.V + p * BlockTiles * s.CinP;
                float* m = scratch.M + p * BlockTiles * s.CoutP;
                float* up = u + (long)p * s.Cin * s.CoutP;
                for (int r = 0; r < rows; r += Rows)
                    for (int co = 0, nv; co < s.CoutP; co += 16 * nv)
                    {
                        nv = Vectors((s.CoutP - co) / 16);
                        float* vr = v + r * s.CinP, ur = up + co, mr = m + r * s.CoutP + co;
                        switch (nv)
                        {
                            case 4: GemmKernels.Rows6x4(vr, s.CinP, ur, s.CoutP, s.Cin, mr, s.CoutP); break;
                            case 3: GemmKernels.Rows6x3(vr, s.CinP, ur, s.CoutP, s.Cin, mr, s.CoutP); break;
                            case 2: GemmKernels.Rows6x2(vr, s.CinP, ur, s.CoutP, s.Cin, mr, s.CoutP); break;
                            default: GemmKernels.Rows6x1(vr, s.CinP, ur, s.CoutP, s.Cin, mr, s.CoutP); break;
                        }
                    }
            }
            for (int t = 0; t < count; t++)
                OutputTransform(scratch.M + t * s.CoutP, BlockTiles * s.CoutP, yi, bias, s, ty * Tile,
                    (tx0 + t) * Tile);
        }
    }

    /// <summary>Output vectors for the next matrix kernel call: at most 4, and 5 or 6 left split 3 + 2 or 3 + 3
    /// (a 1-vector kernel is bound by its broadcasts).</summary>
    static int Vectors(int left) => left is 5 or 6 ? 3 : Math.Min(4, left);

    static void ClearTile(float* v, int pStride, int cinP)
    {
        for (int p = 0; p < P; p++) new Span<float>(v + p * pStride, cinP).Clear();
    }

    static Vector512<float> Mask(int count) =>
        Vector512.LessThan(Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            Vector512.Create((float)count));

    /// <summary>V[p][c] = (Bᵀ d B)[p] for the 6×6 input tile with top-left pixel (y0, x0) (zero outside the image).
    /// Each input row is combined along x as it is loaded, then each column of the result along y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void InputTransform(float* x, Shape s, int y0, int x0, float* v, int pStride)
    {
        var t = stackalloc Vector512<float>[P];
        bool inside = y0 >= 0 && x0 >= 0 && y0 + In <= s.H && x0 + In <= s.W;
        long pix = s.Cin, row = (long)s.W * s.Cin;
        for (int c0 = 0; c0 < s.Cin; c0 += 16)
        {
            int cnt = Math.Min(16, s.Cin - c0);
            var mask = Mask(cnt);
            for (int r = 0; r < In; r++)
            {
                Vector512<float> d0, d1, d2, d3, d4, d5;
                if (inside)
                {
                    float* q = x + (y0 + r) * row + x0 * pix + c0;
                    if (cnt == 16)
                    {
                        d0 = Vector512.Load(q); d1 = Vector512.Load(q + pix); d2 = Vector512.Load(q + 2 * pix);
                        d3 = Vector512.Load(q + 3 * pix); d4 = Vector512.Load(q + 4 * pix);
                        d5 = Vector512.Load(q + 5 * pix);
                    }
                    else
                    {
                        d0 = LoadPart(q, cnt, mask); d1 = LoadPart(q + pix, cnt, mask);
                        d2 = LoadPart(q + 2 * pix, cnt, mask);
                        d3 = LoadPart(q + 3 * pix, cnt, mask); d4 = LoadPart(q + 4 * pix, cnt, mask);
                        d5 = LoadPart(q + 5 * pix, cnt, mask);
                    }
                }
                else
                {
                    int yy = y0 + r;
                    d0 = Pixel(x, s, yy, x0, c0, cnt, mask); d1 = Pixel(x, s, yy, x0 + 1, c0, cnt, mask);
                    d2 = Pixel(x, s, yy, x0 + 2, c0, cnt, mask);
                    d3 = Pixel(x, s, yy, x0 + 3, c0, cnt, mask); d4 = Pixel(x, s, yy, x0 + 4, c0, cnt, mask);
                    d5 = Pixel(x, s, yy, x0 + 5, c0, cnt, mask);
                }
                Combine(d0, d1, d2, d3, d4, d5, out t[r * In], out t[r * In + 1], out t[r * In + 2], out t[r * In + 3],
                    out t[r * In + 4], out t[r * In + 5]);
            }
            for (int j = 0; j < In; j++)
            {
                Combine(t[j], t[In + j], t[2 * In + j], t[3 * In + j], t[4 * In + j], t[5 * In + j],
                    out var e0, out var e1, out var e2, out var e3, out var e4, out var e5);
                float* vj = v + (long)j * pStride + c0; // p = 6·(vertical index) + j
                e0.Store(vj); e1.Store(vj + 6L * pStride); e2.Store(vj + 12L * pStride);
                e3.Store(vj + 18L * pStride); e4.Store(vj + 24L * pStride); e5.Store(vj + 30L * pStride);
            }
        }
    }

    /// <summary>Channels c0 … c0+cnt of pixel (yy, xx), zero outside the image and beyond cnt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Pixel(float* x, Shape s, int yy, int xx, int c0, int cnt, Vector512<float> mask)
    {
        if ((uint)yy >= (uint)s.H || (uint)xx >= (uint)s.W) return Vector512<float>.Zero;
        float* q = x + ((long)yy * s.W + xx) * s.Cin + c0;
        return cnt == 16 ? Vector512.Load(q) : LoadPart(q, cnt, mask);
    }

    /// <summary>The first cnt floats at p, zeros after them, reading nothing beyond p + cnt (a masked load; element by
    /// element where AVX-512 is missing, so that the kernel is right on any CPU though only used with
    /// AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> LoadPart(float* p, int cnt, Vector512<float> mask)
    {
        if (Avx512F.IsSupported) return Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
        var v = Vector512<float>.Zero;
        for (int i = 0; i < cnt; i++) v = v.WithElement(i, p[i]);
        return v;
    }

    /// <summary>The six rows of Bᵀ applied to (d0 … d5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Combine(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        Vector512<float> d4, Vector512<float> d5,
        out Vector512<float> e0, out Vector512<float> e1, out Vector512<float> e2, out Vector512<float> e3,
        out Vector512<float> e4, out Vector512<float> e5)
    {
        var four = Vector512.Create(4f);
        var five = Vector512.Create(5f);
        var two = Vector512.Create(2f);
        var a = d4 - d2;                                   // shared by rows 1–4
        var b = d3 - d1;
        e0 = Vector512.FusedMultiplyAdd(four, d0, d4) - five * d2;          //  4 d0 − 5 d2 + d4
        e1 = d4 + d3 - four * (d1 + d2);                                   // −4 d1 − 4 d2 + d3 + d4
        e2 = Vector512.FusedMultiplyAdd(four, d1 - d2, d4 - d3);           //  4 d1 − 4 d2 − d3 + d4
        e3 = Vector512.FusedMultiplyAdd(two, b, d4 - d2);                  // −2 d1 − d2 + 2 d3 + d4
        e4 = a - two * b;                                                  //  2 d1 − d2 − 2 d3 + d4
        e5 = Vector512.FusedMultiplyAdd(four, d1, d5) - five * d3;         //  4 d1 − 5 d3 + d5
    }

    /// <summary>The 4×4 outputs Aᵀ m A of one tile (m[p] at m + p·pStride), plus bias, written where inside the
    /// image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void OutputTransform(float* m, int pStride, float* y, float* bias, Shape s, int oy, int ox)
    {
        var t = stackalloc Vector512<float>[4 * In];
        for (int c0 = 0; c0 < s.Cout; c0 += 16)
        {
            int cnt = Math.Min(16, s.Cout - c0);
            var mask = Mask(cnt);
            var bv = Vector512.Load(bias + c0);
            for (int c = 0; c < In; c++) // Aᵀ m, column by column
            {
                var m0 = Vector512.Load(m + (0 * In + c) * pStride + c0);
                var m1 = Vector512.Load(m + (1 * In + c) * pStride + c0);
                var m2 = Vector512.Load(m + (2 * In + c) * pStride + c0);
                var m3 = Vector512.Load(m + (3 * In + c) * pStride + c0);
                var m4 = Vector512.Load(m + (4 * In + c) * pStride + c0);
                var m5 = Vector512.Load(m + (5 * In + c) * pStride + c0);
                Reduce(m0, m1, m2, m3, m4, m5, out t[c], out t[In + c], out t[2 * In + c], out t[3 * In + c]);
            }
            for (int r = 0; r < Tile; r++) // (Aᵀ m) A, row by row
            {
                int yy = oy + r;
                if (yy >= s.H) break;
                Reduce(t[r * In], t[r * In + 1], t[r * In + 2], t[r * In + 3], t[r * In + 4], t[r * In + 5], out var o0,
                    out var o1, out var o2, out var o3);
                float* yr = y + ((long)yy * s.W + ox) * s.Cout + c0;
                Store(yr, o0 + bv, cnt, mask);
                if (ox + 1 < s.W) Store(yr + s.Cout, o1 + bv, cnt, mask);
                if (ox + 2 < s.W) Store(yr + 2 * s.Cout, o2 + bv, cnt, mask);
                if (ox + 3 < s.W) Store(yr + 3 * s.Cout, o3 + bv, cnt, mask);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* p, Vector512<float> v, int cnt, Vector512<float> mask)
    {
        if (cnt == 16) v.Store(p);
        else if (Avx512F.IsSupported) Avx512F.MaskStore(p, mask, v);
        else for (int i = 0; i < cnt; i++) p[i] = v.GetElement(i);
    }

    /// <summary>The four rows of Aᵀ applied to (m0 … m5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Reduce(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3,
        Vector512<float> m4, Vector512<float> m5,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
    {
        var s12 = m1 + m2; var d12 = m1 - m2;
        var s34 = m3 + m4; var d34 = m3 - m4;
        o0 = m0 + s12 + s34;
        o1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), d34, d12);
        o2 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), s34, s12);
        o3 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), d34, d12) + m5;
    }
}
