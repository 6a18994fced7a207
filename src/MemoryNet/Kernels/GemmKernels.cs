using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MemoryNet.Kernels;

/// <summary>
/// The matrix-product core of <see cref="Winograd3x3"/>: M (6 rows × 16·NV columns) += V (6 × K) · U (K × 16·NV),
/// all fp32, accumulators in AVX-512 registers. Written out per NV (1–4 vectors of 16 output channels) because the
/// JIT keeps only named locals in registers: 6·NV accumulators + NV weight vectors + 1 broadcast ≤ 29 of the 32 zmm
/// registers.
/// </summary>
internal static unsafe class GemmKernels
{
    /// <summary>Rows v[r·vStride + k], r &lt; 6, k &lt; kCount; columns u[k·uStride + 16j], j &lt; 1; m[r·mStride +
    /// 16j] = the product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows6x1(float* v, int vStride, float* u, int uStride, int kCount, float* m, int mStride)
    {
        var a00 = Vector512<float>.Zero;
        var a10 = Vector512<float>.Zero;
        var a20 = Vector512<float>.Zero;
        var a30 = Vector512<float>.Zero;
        var a40 = Vector512<float>.Zero;
        var a50 = Vector512<float>.Zero;
        for (int k = 0; k < kCount; k++)
        {
            float* uk = u + (long)k * uStride;
            var u0 = Vector512.Load(uk + 0);
            var b0 = Vector512.Create(v[k]);
            a00 = Vector512.FusedMultiplyAdd(b0, u0, a00);
            var b1 = Vector512.Create(v[1 * vStride + k]);
            a10 = Vector512.FusedMultiplyAdd(b1, u0, a10);
            var b2 = Vector512.Create(v[2 * vStride + k]);
            a20 = Vector512.FusedMultiplyAdd(b2, u0, a20);
            var b3 = Vector512.Create(v[3 * vStride + k]);
            a30 = Vector512.FusedMultiplyAdd(b3, u0, a30);
            var b4 = Vector512.Create(v[4 * vStride + k]);
            a40 = Vector512.FusedMultiplyAdd(b4, u0, a40);
            var b5 = Vector512.Create(v[5 * vStride + k]);
            a50 = Vector512.FusedMultiplyAdd(b5, u0, a50);
        }
        a00.Store(m + 0);
        a10.Store(m + 1 * mStride + 0);
        a20.Store(m + 2 * mStride + 0);
        a30.Store(m + 3 * mStride + 0);
        a40.Store(m + 4 * mStride + 0);
        a50.Store(m + 5 * mStride + 0);
    }

    /// <summary>Rows v[r·vStride + k], r &lt; 6, k &lt; kCount; columns u[k·uStride + 16j], j &lt; 2; m[r·mStride +
    /// 16j] = the product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows6x2(float* v, int vStride, float* u, int uStride, int kCount, float* m, int mStride)
    {
        var a00 = Vector512<float>.Zero; var a01 = Vector512<float>.Zero;
        var a10 = Vector512<float>.Zero; var a11 = Vector512<float>.Zero;
        var a20 = Vector512<float>.Zero; var a21 = Vector512<float>.Zero;
        var a30 = Vector512<float>.Zero; var a31 = Vector512<float>.Zero;
        var a40 = Vector512<float>.Zero; var a41 = Vector512<float>.Zero;
        var a50 = Vector512<float>.Zero; var a51 = Vector512<float>.Zero;
        for (int k = 0; k < kCount; k++)
        {
            float* uk = u + (long)k * uStride;
            var u0 = Vector512.Load(uk + 0);
            var u1 = Vector512.Load(uk + 16);
            var b0 = Vector512.Create(v[k]);
            a00 = Vector512.FusedMultiplyAdd(b0, u0, a00);
            a01 = Vector512.FusedMultiplyAdd(b0, u1, a01);
            var b1 = Vector512.Create(v[1 * vStride + k]);
            a10 = Vector512.FusedMultiplyAdd(b1, u0, a10);
            a11 = Vector512.FusedMultiplyAdd(b1, u1, a11);
            var b2 = Vector512.Create(v[2 * vStride + k]);
            a20 = Vector512.FusedMultiplyAdd(b2, u0, a20);
            a21 = Vector512.FusedMultiplyAdd(b2, u1, a21);
            var b3 = Vector512.Create(v[3 * vStride + k]);
            a30 = Vector512.FusedMultiplyAdd(b3, u0, a30);
            a31 = Vector512.FusedMultiplyAdd(b3, u1, a31);
            var b4 = Vector512.Create(v[4 * vStride + k]);
            a40 = Vector512.FusedMultiplyAdd(b4, u0, a40);
            a41 = Vector512.FusedMultiplyAdd(b4, u1, a41);
            var b5 = Vector512.Create(v[5 * vStride + k]);
            a50 = Vector512.FusedMultiplyAdd(b5, u0, a50);
            a51 = Vector512.FusedMultiplyAdd(b5, u1, a51);
        }
        a00.Store(m + 0);
        a01.Store(m + 16);
        a10.Store(m + 1 * mStride + 0);
        a11.Store(m + 1 * mStride + 16);
        a20.Store(m + 2 * mStride + 0);
        a21.Store(m + 2 * mStride + 16);
        a30.Store(m + 3 * mStride + 0);
        a31.Store(m + 3 * mStride + 16);
        a40.Store(m + 4 * mStride + 0);
        a41.Store(m + 4 * mStride + 16);
        a50.Store(m + 5 * mStride + 0);
        a51.Store(m + 5 * mStride + 16);
    }

    /// <summary>Rows v[r·vStride + k], r &lt; 6, k &lt; kCount; columns u[k·uStride + 16j], j &lt; 3; m[r·mStride +
    /// 16j] = the product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows6x3(float* v, int vStride, float* u, int uStride, int kCount, float* m, int mStride)
    {
        var a00 = Vector512<float>.Zero; var a01 = Vector512<float>.Zero; var a02 = Vector512<float>.Zero;
        var a10 = Vector512<float>.Zero; var a11 = Vector512<float>.Zero; var a12 = Vector512<float>.Zero;
        var a20 = Vector512<float>.Zero; var a21 = Vector512<float>.Zero; var a22 = Vector512<float>.Zero;
        var a30 = Vector512<float>.Zero; var a31 = Vector512<float>.Zero; var a32 = Vector512<float>.Zero;
        var a40 = Vector512<float>.Zero; var a41 = Vector512<float>.Zero; var a42 = Vector512<float>.Zero;
        var a50 = Vector512<float>.Zero; var a51 = Vector512<float>.Zero; var a52 = Vector512<float>.Zero;
        for (int k = 0; k < kCount; k++)
        {
            float* uk = u + (long)k * uStride;
            var u0 = Vector512.Load(uk + 0);
            var u1 = Vector512.Load(uk + 16);
            var u2 = Vector512.Load(uk + 32);
            var b0 = Vector512.Create(v[k]);
            a00 = Vector512.FusedMultiplyAdd(b0, u0, a00);
            a01 = Vector512.FusedMultiplyAdd(b0, u1, a01);
            a02 = Vector512.FusedMultiplyAdd(b0, u2, a02);
            var b1 = Vector512.Create(v[1 * vStride + k]);
            a10 = Vector512.FusedMultiplyAdd(b1, u0, a10);
            a11 = Vector512.FusedMultiplyAdd(b1, u1, a11);
            a12 = Vector512.FusedMultiplyAdd(b1, u2, a12);
            var b2 = Vector512.Create(v[2 * vStride + k]);
            a20 = Vector512.FusedMultiplyAdd(b2, u0, a20);
            a21 = Vector512.FusedMultiplyAdd(b2, u1, a21);
            a22 = Vector512.FusedMultiplyAdd(b2, u2, a22);
            var b3 = Vector512.Create(v[3 * vStride + k]);
            a30 = Vector512.FusedMultiplyAdd(b3, u0, a30);
            a31 = Vector512.FusedMultiplyAdd(b3, u1, a31);
            a32 = Vector512.FusedMultiplyAdd(b3, u2, a32);
            var b4 = Vector512.Create(v[4 * vStride + k]);
            a40 = Vector512.FusedMultiplyAdd(b4, u0, a40);
            a41 = Vector512.FusedMultiplyAdd(b4, u1, a41);
            a42 = Vector512.FusedMultiplyAdd(b4, u2, a42);
            var b5 = Vector512.Create(v[5 * vStride + k]);
            a50 = Vector512.FusedMultiplyAdd(b5, u0, a50);
            a51 = Vector512.FusedMultiplyAdd(b5, u1, a51);
            a52 = Vector512.FusedMultiplyAdd(b5, u2, a52);
        }
        a00.Store(m + 0);
        a01.Store(m + 16);
        a02.Store(m + 32);
        a10.Store(m + 1 * mStride + 0);
        a11.Store(m + 1 * mStride + 16);
        a12.Store(m + 1 * mStride + 32);
        a20.Store(m + 2 * mStride + 0);
        a21.Store(m + 2 * mStride + 16);
        a22.Store(m + 2 * mStride + 32);
        a30.Store(m + 3 * mStride + 0);
        a31.Store(m + 3 * mStride + 16);
        a32.Store(m + 3 * mStride + 32);
        a40.Store(m + 4 * mStride + 0);
        a41.Store(m + 4 * mStride + 16);
        a42.Store(m + 4 * mStride + 32);
        a50.Store(m + 5 * mStride + 0);
        a51.Store(m + 5 * mStride + 16);
        a52.Store(m + 5 * mStride + 32);
    }

    /// <summary>Rows v[r·vStride + k], r &lt; 6, k &lt; kCount; columns u[k·uStride + 16j], j &lt; 4; m[r·mStride +
    /// 16j] = the product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows6x4(float* v, int vStride, float* u, int uStride, int kCount, float* m, int mStride)
    {
        var a00 = Vector512<float>.Zero; var a01 = Vector512<float>.Zero; var a02 = Vector512<float>.Zero;
        var a03 = Vector512<float>.Zero;
        var a10 = Vector512<float>.Zero; var a11 = Vector512<float>.Zero; var a12 = Vector512<float>.Zero;
        var a13 = Vector512<float>.Zero;
        var a20 = Vector512<float>.Zero; var a21 = Vector512<float>.Zero; var a22 = Vector512<float>.Zero;
        var a23 = Vector512<float>.Zero;
        var a30 = Vector512<float>.Zero; var a31 = Vector512<float>.Zero; var a32 = Vector512<float>.Zero;
        var a33 = Vector512<float>.Zero;
        var a40 = Vector512<float>.Zero; var a41 = Vector512<float>.Zero; var a42 = Vector512<float>.Zero;
        var a43 = Vector512<float>.Zero;
        var a50 = Vector512<float>.Zero; var a51 = Vector512<float>.Zero; var a52 = Vector512<float>.Zero;
        var a53 = Vector512<float>.Zero;
        for (int k = 0; k < kCount; k++)
        {
            float* uk = u + (long)k * uStride;
            var u0 = Vector512.Load(uk + 0);
            var u1 = Vector512.Load(uk + 16);
            var u2 = Vector512.Load(uk + 32);
            var u3 = Vector512.Load(uk + 48);
            var b0 = Vector512.Create(v[k]);
            a00 = Vector512.FusedMultiplyAdd(b0, u0, a00);
            a01 = Vector512.FusedMultiplyAdd(b0, u1, a01);
            a02 = Vector512.FusedMultiplyAdd(b0, u2, a02);
            a03 = Vector512.FusedMultiplyAdd(b0, u3, a03);
            var b1 = Vector512.Create(v[1 * vStride + k]);
            a10 = Vector512.FusedMultiplyAdd(b1, u0, a10);
            a11 = Vector512.FusedMultiplyAdd(b1, u1, a11);
            a12 = Vector512.FusedMultiplyAdd(b1, u2, a12);
            a13 = Vector512.FusedMultiplyAdd(b1, u3, a13);
            var b2 = Vector512.Create(v[2 * vStride + k]);
            a20 = Vector512.FusedMultiplyAdd(b2, u0, a20);
            a21 = Vector512.FusedMultiplyAdd(b2, u1, a21);
            a22 = Vector512.FusedMultiplyAdd(b2, u2, a22);
            a23 = Vector512.FusedMultiplyAdd(b2, u3, a23);
            var b3 = Vector512.Create(v[3 * vStride + k]);
            a30 = Vector512.FusedMultiplyAdd(b3, u0, a30);
            a31 = Vector512.FusedMultiplyAdd(b3, u1, a31);
            a32 = Vector512.FusedMultiplyAdd(b3, u2, a32);
            a33 = Vector512.FusedMultiplyAdd(b3, u3, a33);
            var b4 = Vector512.Create(v[4 * vStride + k]);
            a40 = Vector512.FusedMultiplyAdd(b4, u0, a40);
            a41 = Vector512.FusedMultiplyAdd(b4, u1, a41);
            a42 = Vector512.FusedMultiplyAdd(b4, u2, a42);
            a43 = Vector512.FusedMultiplyAdd(b4, u3, a43);
            var b5 = Vector512.Create(v[5 * vStride + k]);
            a50 = Vector512.FusedMultiplyAdd(b5, u0, a50);
            a51 = Vector512.FusedMultiplyAdd(b5, u1, a51);
            a52 = Vector512.FusedMultiplyAdd(b5, u2, a52);
            a53 = Vector512.FusedMultiplyAdd(b5, u3, a53);
        }
        a00.Store(m + 0);
        a01.Store(m + 16);
        a02.Store(m + 32);
        a03.Store(m + 48);
        a10.Store(m + 1 * mStride + 0);
        a11.Store(m + 1 * mStride + 16);
        a12.Store(m + 1 * mStride + 32);
        a13.Store(m + 1 * mStride + 48);
        a20.Store(m + 2 * mStride + 0);
        a21.Store(m + 2 * mStride + 16);
        a22.Store(m + 2 * mStride + 32);
        a23.Store(m + 2 * mStride + 48);
        a30.Store(m + 3 * mStride + 0);
        a31.Store(m + 3 * mStride + 16);
        a32.Store(m + 3 * mStride + 32);
        a33.Store(m + 3 * mStride + 48);
        a40.Store(m + 4 * mStride + 0);
        a41.Store(m + 4 * mStride + 16);
        a42.Store(m + 4 * mStride + 32);
        a43.Store(m + 4 * mStride + 48);
        a50.Store(m + 5 * mStride + 0);
        a51.Store(m + 5 * mStride + 16);
        a52.Store(m + 5 * mStride + 32);
        a53.Store(m + 5 * mStride + 48);
    }

}
