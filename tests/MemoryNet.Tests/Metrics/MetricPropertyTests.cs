using MemoryNet.Imaging;
using MemoryNet.Metrics;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Metrics;

public class MetricPropertyTests
{
    static ImageData Img(string dir, string name) => ImageCodec.Read(TestPaths.Fixtures("Metrics", dir, name + ".png"));

    static ImageData Random(int w, int h, int seed, int channels = 3)
    {
        var r = new Random(seed);
        var px = new float[w * h * channels];
        for (int i = 0; i < px.Length; i++) px[i] = r.Next(256) / 255f;
        return new ImageData(w, h, channels, 8, px);
    }

    static ImageData Mask(int w, int h, int seed)
    {
        var r = new Random(seed);
        var px = new float[w * h];
        for (int i = 0; i < px.Length; i++) px[i] = r.Next(3) == 0 ? 1f : 0f;
        return new ImageData(w, h, 1, 8, px);
    }

    public static TheoryData<string> Protocols() => new(EvalProtocols.Names);

    [Theory]
    [MemberData(nameof(Protocols))]
    public void Identical_images_give_infinite_psnr_and_ssim_one(string protocol)
    {
        var g = Img("gt", "a");
        var s = ProtocolScorer.Score(EvalProtocols.Get(protocol), "a", g, g, Img("mask", "a"));
        Assert.True(double.IsPositiveInfinity(s.Psnr));
        Assert.Equal(1.0, s.Ssim, 12);
        if (s.Lab is not null) Assert.Equal(0.0, s.Lab.AllSum);
        var report = new EvalReport(EvalProtocols.Get(protocol), [s]);
        Assert.Contains("\"psnr\": \"inf\"", report.ToJson());
        Assert.Contains(",inf,", report.ToCsv());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void Scores_are_symmetric(string protocol)
    {
        var proto = EvalProtocols.Get(protocol);
        var a = ProtocolScorer.Score(proto, "b", Img("pred", "b"), Img("gt", "b"), Img("mask", "b"));
        var b = ProtocolScorer.Score(proto, "b", Img("gt", "b"), Img("pred", "b"), Img("mask", "b"));
        Assert.Equal(a.Psnr, b.Psnr, 9);
        Assert.Equal(a.Ssim, b.Ssim, 9);
        if (a.Lab is not null) Assert.Equal(a.Lab.AllSum, b.Lab!.AllSum, 6);
    }

    [Theory]
    [InlineData("istd")]
    [InlineData("istd-full")]
    public void Shadow_and_non_shadow_add_up_to_all(string protocol)
    {
        var scores = Enumerable.Range(0, 3).Select(i =>
            ProtocolScorer.Score(EvalProtocols.Get(protocol), $"r{i}", Random(31 + i, 23 + 2 * i, i),
                Random(31 + i, 23 + 2 * i, 100 + i), Mask(31 + i, 23 + 2 * i, 200 + i))).ToList();
        foreach (var s in scores)
        {
            Assert.Equal(s.Lab!.AllPixels, s.Lab.ShadowPixels + s.Lab.NonShadowPixels);
            Assert.Equal(s.Lab.AllSum, s.Lab.ShadowSum + s.Lab.NonShadowSum, 6);
            Assert.True(s.Lab.ShadowPixels > 0 && s.Lab.NonShadowPixels > 0);
        }
        var r = new EvalReport(EvalProtocols.Get(protocol), scores);
        Assert.Equal(r.All!.Pixels, r.Shadow!.Pixels + r.NonShadow!.Pixels);
        Assert.Equal(r.RmseLab!.Value, r.All.RmseLab);
    }

    [Fact]
    public void Empty_mask_gives_no_shadow_pixels_and_null_shadow_error()
    {
        var empty = new ImageData(20, 20, 1, 8, new float[400]);
        var s = ProtocolScorer.Score(EvalProtocols.Get("istd-full"), "e", Random(20, 20, 1), Random(20, 20, 2), empty);
        Assert.Equal(0, s.Lab!.ShadowPixels);
        Assert.True(double.IsNaN(s.Lab.Shadow));
        Assert.Contains("\"rmse_lab_shadow\": null", new EvalReport(EvalProtocols.Get("istd-full"), [s]).ToJson());
    }

    [Theory]
    [InlineData("rgb")]
    [InlineData("y")]
    [InlineData("istd-full")]
    public void One_pixel_images_score_psnr_and_leave_ssim_undefined(string protocol)
    {
        var s = ProtocolScorer.Score(EvalProtocols.Get(protocol), "one", Random(1, 1, 1), Random(1, 1, 2),
            Mask(1, 1, 3));
        Assert.False(double.IsNaN(s.Psnr));
        Assert.False(s.SsimDefined);
        var r = new EvalReport(EvalProtocols.Get(protocol), [s]);
        Assert.True(double.IsNaN(r.Ssim));
        Assert.Contains("\"ssim\": null", r.ToJson());
    }

    [Fact]
    public void One_pixel_images_are_resized_by_istd()
    {
        var s = ProtocolScorer.Score(EvalProtocols.Get("istd"), "one", Random(1, 1, 1), Random(1, 1, 2), Mask(1, 1, 3));
        Assert.True(s.SsimDefined);
        Assert.Equal(256, s.Width);
    }

    [Fact]
    public void One_pixel_images_are_refused_by_raindrop_with_a_clear_message()
    {
        var e = Assert.Throws<UserInputException>(() =>
            ProtocolScorer.Score(EvalProtocols.Get("raindrop"), "one.png", Random(1, 1, 1), Random(1, 1, 2)));
        Assert.Contains("one.png", e.Message);
        Assert.Contains("multiple of 4", e.Message);
    }

    [Fact]
    public void Ssim_smaller_than_window_is_nan_not_a_crash()
    {
        using var scope = NewDisposeScope();
        var a = rand(3, 10, 40, dtype: float64) * 255;
        Assert.True(double.IsNaN(ImageMetrics.Ssim(a, a, SsimOptions.Matlab)));
        Assert.Equal(1.0, ImageMetrics.Ssim(a, a, SsimOptions.SkimageDefault), 12);
    }

    [Fact]
    public void Size_mismatch_is_refused_unless_the_protocol_resizes()
    {
        var e = Assert.Throws<UserInputException>(() =>
            ProtocolScorer.Score(EvalProtocols.Get("rgb"), "x", Random(10, 12, 1), Random(12, 10, 2)));
        Assert.Contains("x:", e.Message);
        var s = ProtocolScorer.Score(EvalProtocols.Get("istd"), "x", Random(10, 12, 1), Random(12, 10, 2),
            Mask(12, 10, 3));
        Assert.Equal(256, s.Height);
    }

    [Fact]
    public void Grey_images_equal_their_rgb_replica()
    {
        var grey = Random(24, 20, 5, channels: 1);
        var rgbPx = new float[24 * 20 * 3];
        for (int i = 0; i < 24 * 20; i++) rgbPx[3 * i] = rgbPx[3 * i + 1] = rgbPx[3 * i + 2] = grey.Pixels[i];
        var rgb = new ImageData(24, 20, 3, 8, rgbPx);
        var other = Random(24, 20, 6);
        var a = ProtocolScorer.Score(EvalProtocols.Get("rgb"), "g", grey, other);
        var b = ProtocolScorer.Score(EvalProtocols.Get("rgb"), "g", rgb, other);
        Assert.Equal(a.Psnr, b.Psnr, 12);
    }

    [Fact]
    public void Unknown_protocol_lists_the_known_ones()
    {
        var e = Assert.Throws<UserInputException>(() => EvalProtocols.Get("psnr"));
        Assert.Contains("istd-full", e.Message);
    }
}
