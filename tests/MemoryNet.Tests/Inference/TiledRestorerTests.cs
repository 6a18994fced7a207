using MemoryNet.Architectures.Mpr;
using MemoryNet.Imaging;
using MemoryNet.Inference;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Inference;

public class TiledRestorerTests(ITestOutputHelper log)
{
    /// <summary>A photo (512×512 astronaut from samples/) as an RGB image.</summary>
    static ImageData Photo() => ImageCodec.Read(Path.Combine(TestPaths.RepoRoot, "samples", "astronaut.jpg"));

    static MemoryNetModel Seeded(ArchSpec spec, int seed)
    {
        torch.manual_seed(seed);
        return new MemoryNetModel(spec);
    }

    static double MeanAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double s = 0;
        for (long i = 0; i < a.Length; i++) s += Math.Abs(a[i] - b[i]);
        return s / a.Length;
    }

    [Theory]
    [InlineData(512, 256, 32)]
    [InlineData(512, 256, 64)]
    [InlineData(3000, 512, 32)]
    [InlineData(300, 128, 0)]
    [InlineData(257, 256, 32)]
    [InlineData(100, 256, 32)]
    public void Tiles_cover_the_axis_with_at_least_the_overlap(int size, int tile, int overlap)
    {
        var s = TiledRestorer.Starts(size, tile, overlap);
        Assert.Equal(0, s[0]);
        Assert.Equal(Math.Max(0, size - tile), s[^1]);
        for (int i = 1; i < s.Length; i++)
        {
            Assert.True(s[i] > s[i - 1]);
            Assert.True(s[i - 1] + tile - s[i] >= overlap,
                $"overlap between tiles {i - 1} and {i} is {s[i - 1] + tile - s[i]}");
        }
    }

    [Theory]
    [InlineData(512, 256, 32)]
    [InlineData(1000, 200, 48)]
    [InlineData(3000, 512, 32)]
    public void Blend_weights_are_positive_and_sum_to_one_across_the_axis(int size, int tile, int overlap)
    {
        var s = TiledRestorer.Starts(size, tile, overlap);
        var sum = new double[size];
        for (int i = 0; i < s.Length; i++)
        {
            var w = TiledRestorer.Weights(s, i, tile);
            Assert.All(w, v => Assert.True(v > 0 && v <= 1));
            for (int k = 0; k < tile; k++) sum[s[i] + k] += w[k];
        }
        Assert.All(sum, v => Assert.Equal(1.0, v, 5));
    }

    [Theory]
    [InlineData(0)] // plain MPRNet shape (custom tiny)
    [InlineData(3)] // with the memory module
    public void Tiled_output_matches_the_whole_image_within_a_grey_level(int memoryBranches)
    {
        using var model = Seeded(new ArchSpec("custom", 8, 4, 4, 1, memoryBranches), 7);
        var restorer = new Restorer(model);
        var photo = Photo();
        Assert.Equal((512, 512), (photo.Width, photo.Height));
        var whole = ImageRestorer.Restore(restorer, photo, 8).Pixels;
        // not vacuous: the network changes the image noticeably
        double change = MeanAbsDiff(whole, photo.Pixels);
        Assert.True(change > 0.01, $"network output too close to its input ({change:E2}) for a meaningful test");

        foreach (int overlap in new[] { 32, 64 })
        {
            var tiled = TiledRestorer.RestoreRgb(restorer, photo, 256, overlap);
            double diff = MeanAbsDiff(whole, tiled);
            log.WriteLine($"memory branches {memoryBranches}: |whole − input| {change * 255:0.00}/255; tile 256 " +
                $"overlap {overlap}: mean |tiled − whole| {diff * 255:0.000}/255");
            Assert.True(diff < 1 / 255.0, $"overlap {overlap}: mean |tiled − whole| = {diff * 255:0.000}/255");
        }
        // blending matters: hard seams (no overlap) are measurably worse than feathered ones
        var hard = TiledRestorer.RestoreRgb(restorer, photo, 256, 0);
        var soft = TiledRestorer.RestoreRgb(restorer, photo, 256, 64);
        log.WriteLine($"overlap 0: {MeanAbsDiff(whole, hard) * 255:0.000}/255");
        Assert.True(MeanAbsDiff(whole, soft) < MeanAbsDiff(whole, hard));
    }

    [Fact]
    public void Batched_tiles_equal_tiles_one_at_a_time()
    {
        using var model = Seeded(new ArchSpec("custom", 4, 2, 2, 1, 3), 3);
        var restorer = new Restorer(model);
        var img = Crop(Photo(), 200, 136);
        var one = TiledRestorer.RestoreRgb(restorer, img, 96, 24, batch: 1);
        var many = TiledRestorer.RestoreRgb(restorer, img, 96, 24, batch: 4);
        Assert.True(MeanAbsDiff(one, many) < 1e-6);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Tiled_restore_keeps_size_and_channels(int channels)
    {
        using var model = Seeded(new ArchSpec("custom", 4, 2, 2, 1, 3), 5);
        var restorer = new Restorer(model);
        var rgb = Crop(Photo(), 203, 117);
        var px = new float[rgb.PixelCount * channels];
        for (long i = 0; i < rgb.PixelCount; i++)
            for (int k = 0; k < channels; k++)
                px[i * channels + k] = k == 3 ? 0.5f : rgb.Pixels[i * 3 + Math.Min(k, 2)];
        var img = new ImageData(rgb.Width, rgb.Height, channels, 16, px);
        var outImg = ImageRestorer.Restore(restorer, img, 16, new TileSettings(Tile: 64, Overlap: 16));
        Assert.Equal((img.Width, img.Height, img.Channels, 16),
            (outImg.Width, outImg.Height, outImg.Channels, outImg.BitDepth));
        if (channels == 4) Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(0.5f, outImg.Pixels[i * 4 + 3]));
        Assert.All(outImg.Pixels, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void Memory_module_reads_in_chunks_without_gradients_equal_the_single_pass()
    {
        torch.manual_seed(11);
        using var mem = new MemoryNet.Memory.MemModule(2, 10, 5, 3);
        using var x = rand(1, 3, 160, 161); // 25 760 rows > one chunk
        Assert.True(160 * 161 > MemoryNet.Memory.MemModule.InferenceChunkRows);
        var (s1, i1, p1) = mem.forward(x); // gradients on: one pass
        Tensor s2, i2, p2;
        using (no_grad()) (s2, i2, p2) = mem.forward(x);
        Assert.True((s1 - s2).abs().max().item<float>() < 1e-6);
        Assert.True((i1 - i2).abs().max().item<float>() < 1e-6);
        Assert.True((p1 - p2).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Bad_tile_settings_are_refused()
    {
        using var model = Seeded(new ArchSpec("custom", 4, 2, 2, 1, 0), 1);
        var restorer = new Restorer(model);
        var img = Crop(Photo(), 64, 64);
        Assert.Throws<UserInputException>(() => TiledRestorer.RestoreRgb(restorer, img, 100, 8));
        Assert.Throws<UserInputException>(() => TiledRestorer.RestoreRgb(restorer, img, 64, 40));
    }

    internal static ImageData Crop(ImageData img, int w, int h)
    {
        int c = img.Channels;
        var px = new float[(long)w * h * c];
        for (int y = 0; y < h; y++) Array.Copy(img.Pixels, (long)y * img.Width * c, px, (long)y * w * c, (long)w * c);
        return new ImageData(w, h, c, img.BitDepth, px);
    }
}
