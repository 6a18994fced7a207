using System.Text.Json;
using MemoryNet.Imaging;
using MemoryNet.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Metrics;

/// <summary>
/// Agreement with the reference implementations: goldens made by tools/make_metric_fixtures.py with
/// Debian's skimage 0.19 / OpenCV 4.6 (and a numpy port of MATLAB imresize) on the committed images.
/// </summary>
public class MetricGoldenTests
{
    public const double PsnrTol = 1e-3, SsimTol = 1e-4, LabRelTol = 0.01;
    static readonly JsonElement Gold =
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixtures("Metrics", "golden.json"))).RootElement;
    static string[] Pairs => Gold.GetProperty("pairs").EnumerateArray().Select(e => e.GetString()!).ToArray();

    static ImageData Img(string dir, string name) => ImageCodec.Read(TestPaths.Fixtures("Metrics", dir, name + ".png"));

    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        foreach (var p in EvalProtocols.Names) foreach (var n in Pairs) d.Add(p, n);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Protocol_matches_reference(string protocol, string pair)
    {
        var proto = EvalProtocols.Get(protocol);
        var g = Gold.GetProperty("protocols").GetProperty(protocol).GetProperty(pair);
        var s = ProtocolScorer.Score(proto, pair, Img("pred", pair), Img("gt", pair), Img("mask", pair));
        Assert.InRange(s.Psnr - g.GetProperty("psnr").GetDouble(), -PsnrTol, PsnrTol);
        Assert.InRange(s.Ssim - g.GetProperty("ssim").GetDouble(), -SsimTol, SsimTol);
        if (proto.ShadowLab)
        {
            var l = s.Lab!;
            Assert.Equal(g.GetProperty("all_pixels").GetInt64(), l.AllPixels);
            Assert.Equal(g.GetProperty("shadow_pixels").GetInt64(), l.ShadowPixels);
            Assert.Equal(g.GetProperty("non_shadow_pixels").GetInt64(), l.NonShadowPixels);
            AssertRel(g.GetProperty("all_sum").GetDouble(), l.AllSum, LabRelTol);
            AssertRel(g.GetProperty("shadow_sum").GetDouble(), l.ShadowSum, LabRelTol);
            AssertRel(g.GetProperty("non_shadow_sum").GetDouble(), l.NonShadowSum, LabRelTol);
        }
        else Assert.Null(s.Lab);
    }

    [Theory]
    [InlineData("rgb")]
    [InlineData("y")]
    public void Border_crop_matches_reference(string protocol)
    {
        foreach (var pair in Pairs)
        {
            var g = Gold.GetProperty("border4").GetProperty(protocol).GetProperty(pair);
            var s = ProtocolScorer.Score(EvalProtocols.Get(protocol), pair, Img("pred", pair),
                Img("gt", pair), border: 4);
            Assert.InRange(s.Psnr - g.GetProperty("psnr").GetDouble(), -PsnrTol, PsnrTol);
            Assert.InRange(s.Ssim - g.GetProperty("ssim").GetDouble(), -SsimTol, SsimTol);
        }
    }

    [Fact]
    public void Sixteen_bit_prediction_is_read_at_16_bits()
    {
        var p = Img("pred", "c16");
        Assert.Equal(16, p.BitDepth);
        Assert.Equal(3, p.Channels);
    }

    [Theory]
    // (R, G, B) → MATLAB rgb2ycbcr(uint8) Y: 16 + (65.481 R + 128.553 G + 24.966 B)/255, rounded half away from zero
    [InlineData(0, 0, 0, 16)]          // 16 exactly
    [InlineData(255, 255, 255, 235)]   // 235 exactly
    [InlineData(1, 0, 0, 16)]          // 16.2568 rounds down
    [InlineData(2, 0, 0, 17)]          // 16.5136 rounds up
    [InlineData(0, 0, 10, 17)]         // 16.9791
    [InlineData(100, 150, 200, 137)]   // 136.8794
    public void Matlab_Y_is_rounded_to_8_bits_as_for_a_uint8_image(int r, int g, int b, double want)
    {
        using var scope = NewDisposeScope();
        var rgb = tensor(new double[] { r, g, b }, dtype: ScalarType.Float64).view(3, 1, 1);
        Assert.Equal(want, ColorSpaces.YMatlab(rgb).item<double>());
    }

    [Fact]
    public void OpenCv_Y_is_bit_exact()
    {
        using var scope = NewDisposeScope();
        var rgb = ColorSpaces.Quantize8(Img("gt", "a").ToTensor()[0]);
        var y = ColorSpaces.YOpenCv(rgb).flatten().data<double>().ToArray();
        var want = Gold.GetProperty("ycrcb_y_a_gt").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(want, y);
    }

    [Fact]
    public void Lab_matches_skimage()
    {
        using var scope = NewDisposeScope();
        var lab = ColorSpaces.SrgbToLab(ColorSpaces.Quantize8(Img("gt", "a").ToTensor()[0]).div(255.0)).permute(1, 2, 0)
            .reshape(-1, 3);
        var idx = Gold.GetProperty("lab_a_gt_index").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var got = lab.index_select(0, tensor(idx)).flatten().data<double>().ToArray();
        var want = Gold.GetProperty("lab_a_gt").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < want.Length; i++) Assert.InRange(got[i] - want[i], -1e-6, 1e-6);

        var ext = Gold.GetProperty("lab_extremes_rgb").EnumerateArray().Select(e => e.GetDouble() / 255.0).ToArray();
        var extLab = ColorSpaces.SrgbToLab(tensor(ext, new long[] { 1, ext.Length / 3, 3 }, float64).permute(2, 0, 1))
            .permute(1, 2, 0).flatten().data<double>().ToArray();
        var extWant = Gold.GetProperty("lab_extremes").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < extWant.Length; i++) Assert.InRange(extLab[i] - extWant[i], -1e-6, 1e-6);
    }

    [Theory]
    [InlineData("17x20", false)]
    [InlineData("43x50", false)]
    [InlineData("13x61", false)]
    [InlineData("mask_23x19", true)]
    public void Matlab_imresize_matches_numpy_port(string key, bool mask)
    {
        using var scope = NewDisposeScope();
        var name = mask ? key["mask_".Length..] : key;
        int oh = int.Parse(name.Split('x')[0]), ow = int.Parse(name.Split('x')[1]);
        var src = mask ? ColorSpaces.Quantize8(Img("mask", "a").ToTensor()[0, 0])
            : ColorSpaces.Quantize8(Img("gt", "a").ToTensor()[0, 0]);
        var got = MatlabResize.Bicubic(src, oh, ow, roundUint8: mask).flatten().data<double>().ToArray();
        var want = Gold.GetProperty("resize").GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++) Assert.InRange(got[i] - want[i], -1e-8, 1e-8);
    }

    static void AssertRel(double want, double got, double rel) =>
        Assert.True(Math.Abs(got - want) <= rel * Math.Abs(want) + 1e-9, $"expected {want}, got {got}");
}
