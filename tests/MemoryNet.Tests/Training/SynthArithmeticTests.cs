using MemoryNet.Data.Synthesis;

namespace MemoryNet.Tests.Training;

/// <summary>The synthesis's fast paths give the bits of its plain arithmetic: a pair made on one machine is the pair
/// made on any other, whatever its vector width.</summary>
public class SynthArithmeticTests
{
    /// <summary>Samples of every kind a plane can hold: tones in [0, 1], every float exponent, zeros, subnormals,
    /// negatives, infinities and NaN.</summary>
    static float[] Samples(int n, int seed)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = (i % 10) switch
            {
                < 6 => (float)r.NextDouble(),
                6 => MathF.ScaleB((float)(1 + r.NextDouble()), r.Next(-149, 128)),
                7 => 0f,
                8 => -(float)r.NextDouble(),
                _ => (i / 10 % 4) switch { 0 => float.PositiveInfinity, 1 => float.NaN, 2 => 1f, _ => 1e-40f },
            };
        // runs of plain tones too, so that most vectors take the vector path
        for (int i = 0; i < n / 2; i++) v[i] = (float)r.NextDouble();
        return v;
    }

    [Theory]
    [InlineData(2.2)]
    [InlineData(1 / 2.2)]
    [InlineData(1.37)]
    [InlineData(-0.5)]
    [InlineData(0.0)]
    [InlineData(40.0)]
    [InlineData(1.0)]
    public void The_plane_power_gives_the_scalar_bits_for_every_sample(double y)
    {
        var src = Samples(10_003, 5); // not a whole number of vectors
        var dst = new float[src.Length];
        DMath.Pow(src, y, dst);
        for (int i = 0; i < src.Length; i++)
        {
            float want = (float)DMath.Pow(src[i], y);
            Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(dst[i]),
                $"x = {src[i]:R}, y = {y}: {dst[i]:R}, the scalar function {want:R}");
        }
        var inPlace = (float[])src.Clone();
        DMath.Pow(inPlace, y, inPlace);
        Assert.Equal(dst, inPlace);
        if (y == 1)   // a gamma of 1 leaves every value as it is, bit for bit
            Assert.Equal(src.Select(BitConverter.SingleToInt32Bits), dst.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(2.2)]
    [InlineData(1 / 2.2)]
    [InlineData(-3.1)]
    [InlineData(1.0)]
    public void The_plane_power_of_doubles_gives_the_scalar_bits(double y)
    {
        var r = new Random(11);
        // runs of plain tones, of every exponent (subnormals and overflowing powers included), and of the specials
        var src = Enumerable.Range(0, 20_001).Select(i => (i / 64 % 7) switch
        {
            < 4 => r.NextDouble(),
            4 => Math.ScaleB(1 + r.NextDouble(), r.Next(-1074, 1024)),
            5 => 0.0,
            _ => new[] { double.NaN, double.PositiveInfinity, -1.0, 1.0 }[i % 4],
        }).ToArray();
        var dst = new double[src.Length];
        DMath.Pow(src, y, dst);
        for (int i = 0; i < src.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(DMath.Pow(src[i], y)) == BitConverter.DoubleToInt64Bits(dst[i]),
                $"x = {src[i]:R}, y = {y}: {dst[i]:R}, the scalar function {DMath.Pow(src[i], y):R}");
    }

    static void AssertSameBits(double want, double got, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(want) == BitConverter.DoubleToInt64Bits(got),
            $"{what}: {got:R}, the scalar function {want:R}");

    [Fact]
    public void The_plane_log_and_sin_cos_give_the_scalar_bits()
    {
        var r = new Random(13);
        // runs of uniforms (what Box–Muller feeds them), of angles of either sign and size, and of specials
        var src = Enumerable.Range(0, 20_001).Select(i => (i / 64 % 6) switch
        {
            < 2 => r.NextDouble(),
            2 => 2 * Math.PI * r.NextDouble(),
            3 => (r.NextDouble() - 0.5) * Math.ScaleB(1.0, r.Next(-30, 45)),
            4 => Math.ScaleB(1 + r.NextDouble(), r.Next(-1074, 1024)),
            _ => new[] { double.NaN, double.PositiveInfinity, -1.0, 0.0, 1.0 }[i % 5],
        }).ToArray();
        var log = new double[src.Length];
        var sin = new double[src.Length];
        var cos = new double[src.Length];
        DMath.Log(src, log);
        DMath.SinCos(src, sin, cos);
        for (int i = 0; i < src.Length; i++)
        {
            AssertSameBits(DMath.Log(src[i]), log[i], $"log {src[i]:R}");
            AssertSameBits(DMath.Sin(src[i]), sin[i], $"sin {src[i]:R}");
            AssertSameBits(DMath.Cos(src[i]), cos[i], $"cos {src[i]:R}");
        }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(1001, false)]
    [InlineData(1001, true)]
    [InlineData(4096, true)]
    public void A_plane_of_normals_is_as_many_calls_of_the_scalar_draw(int count, bool spareFirst)
    {
        SynthRng a = new(21), b = new(21);
        if (spareFirst) AssertSameBits(a.Normal(), b.Normal(), "first draw"); // leaves a spare in each
        var plane = new double[count];
        a.Normals(plane);
        for (int i = 0; i < count; i++) AssertSameBits(b.Normal(), plane[i], $"normal {i}");
        // the same spare and the same generator state after
        AssertSameBits(b.Normal(), a.Normal(), "the draw after");
        AssertSameBits(b.Normal(), a.Normal(), "the second draw after");
    }

    /// <summary>The convolution as its definition reads: each output the sum over the taps, in their order, of weight
    /// × the replicated-edge source sample.</summary>
    static float[] PlainConvolution(float[] src, int w, int h, IReadOnlyList<ImageOps.Tap> taps)
    {
        var dst = new float[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float sum = 0;
                foreach (var t in taps)
                    sum += t.W * src[Math.Clamp(y - t.Dy, 0, h - 1) * w + Math.Clamp(x - t.Dx, 0, w - 1)];
                dst[y * w + x] = sum;
            }
        return dst;
    }

    [Fact]
    public void A_window_of_the_sparse_convolution_is_that_crop_of_the_plain_sum()
    {
        int w = 53, h = 29;
        var r = new Random(3);
        var src = Enumerable.Range(0, w * h).Select(_ => (float)r.NextDouble()).ToArray();
        // taps reaching past every edge, some further than the window's margin
        var taps = Enumerable.Range(0, 40)
            .Select(_ => new ImageOps.Tap(r.Next(-20, 21), r.Next(-14, 15), (float)r.NextDouble() / 40)).ToList();
        var plain = PlainConvolution(src, w, h, taps);
        Assert.Equal(plain, ImageOps.ConvolveSparse(src, w, h, taps));
        int x0 = 7, y0 = 4, ow = 38, oh = 19;
        var window = ImageOps.ConvolveSparse(src, w, h, taps, x0, y0, ow, oh);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                Assert.Equal(plain[(y0 + y) * w + x0 + x], window[y * ow + x]);
        // a kernel wider and taller than the picture: every tap reads the edges
        var small = src[..(6 * 5)];
        Assert.Equal(PlainConvolution(small, 6, 5, taps), ImageOps.ConvolveSparse(small, 6, 5, taps));
    }
}
