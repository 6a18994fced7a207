using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Metrics;

/// <summary>
/// MATLAB <c>imresize(x, [outH outW])</c> with its default 'bicubic' method, reproduced: cubic kernel
/// a = −0.5, antialiasing when shrinking (kernel stretched by 1/scale), symmetric edge handling,
/// weights normalised per output sample, the dimension with the smaller scale resized first.
/// With <c>roundUint8</c> each pass is rounded and saturated to 0..255 as MATLAB does for uint8 input.
/// Not the same as OpenCV INTER_CUBIC (a = −0.75, no antialias) nor skimage resize(order=3).
/// </summary>
public static class MatlabResize
{
    /// <summary>Resizes a (..., H, W) float tensor; returns float64.</summary>
    public static Tensor Bicubic(Tensor x, int outHeight, int outWidth, bool roundUint8 = false)
    {
        if (outHeight <= 0 || outWidth <= 0) throw new ArgumentOutOfRangeException(nameof(outHeight));
        using var scope = NewDisposeScope();
        int h = (int)x.shape[^2], w = (int)x.shape[^1];
        double sh = (double)outHeight / h, sw = (double)outWidth / w;
        var y = x.to(float64);
        bool rowsFirst = sh <= sw;
        for (int pass = 0; pass < 2; pass++)
        {
            bool rows = (pass == 0) == rowsFirst;
            if (rows)
            {
                var m = Weights(h, outHeight, sh);             // (outH, H)
                y = matmul(m, y);                              // (..., outH, W)
            }
            else
            {
                var m = Weights(w, outWidth, sw);              // (outW, W)
                y = matmul(y, m.t());                          // (..., H', outW)
            }
            if (roundUint8) y = y.AddK(0.5).floor_().Clamp255_();
        }
        return y.MoveToOuterDisposeScope();
    }

    static double Cubic(double x)
    {
        double ax = Math.Abs(x), ax2 = ax * ax, ax3 = ax2 * ax;
        if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
        if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
        return 0;
    }

    /// <summary>MATLAB imresize.m contributions() as a dense (outLen, inLen) matrix.</summary>
    public static Tensor Weights(int inLen, int outLen, double scale, bool antialias = true)
    {
        bool shrink = scale < 1 && antialias;
        double kw = shrink ? 4.0 / scale : 4.0;
        int p = (int)Math.Ceiling(kw) + 2;
        var m = new double[outLen * inLen];
        var wts = new double[p];
        for (int i = 0; i < outLen; i++)
        {
            double u = (i + 1) / scale + 0.5 * (1 - 1 / scale);
            double left = Math.Floor(u - kw / 2);
            double sum = 0;
            for (int j = 0; j < p; j++)
            {
                double d = u - (left + j);
                wts[j] = shrink ? scale * Cubic(scale * d) : Cubic(d);
                sum += wts[j];
            }
            for (int j = 0; j < p; j++)
            {
                long idx = (long)(left + j) - 1;                  // 0-based
                long period = 2L * inLen;
                long mod = ((idx % period) + period) % period;    // mirror: 0..n-1, n-1..0
                int src = (int)(mod < inLen ? mod : period - 1 - mod);
                m[i * inLen + src] += wts[j] / sum;
            }
        }
        return tensor(m, new long[] { outLen, inLen }, float64);
    }
}
