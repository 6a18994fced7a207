using MemoryNet.Cli;
using MemoryNet.Cli.Commands;
using MemoryNet.Imaging;
using System.CommandLine;

namespace MemoryNet.Tests.Inference;

/// <summary>Tests that capture stderr run alone (Console is process-wide).</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public class ConsoleCollection;

[Collection("Console")]
public class RestoreCommandTests
{
    static readonly string Model = TestPaths.Fixtures("Parity", "tiny_memorynet_plain.pth");

    static (int Code, string[] Err) Run(params string[] args) => CliRunner.Run(args);

    static (int, string[]) Restore(params string[] args) =>
        Run(["restore", .. args, "--model", Model, "--threads", "1"]);

    static ImageData Pattern(int w, int h, int channels, int bits = 8)
    {
        var px = new float[(long)w * h * channels];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < channels; k++)
                    px[((long)y * w + x) * channels + k] = k == 3 ? 0.25f + 0.5f * x / Math.Max(1, w)
                        : (float)(0.5 + 0.4 * Math.Sin(0.3 * x + 0.2 * y + k));
        return new ImageData(w, h, channels, bits, px);
    }

    static string Folder(string root, string name)
    {
        var d = Path.Combine(root, name); Directory.CreateDirectory(d); return d;
    }

    /// <summary>A PNG whose IHDR claims width × height, with a tiny (wrong) IDAT.</summary>
    static byte[] PngHeaderClaiming(int width, int height, int bits = 8)
    {
        var png = ImageCodec.EncodePng(Pattern(1, 1, 3), bits);
        var b = (byte[])png.Clone();
        // IHDR data starts at 16: width, height big-endian; fix the chunk CRC (bytes 29..32) so only the size is odd
        b[16] = (byte)(width >> 24); b[17] = (byte)(width >> 16); b[18] = (byte)(width >> 8); b[19] = (byte)width;
        b[20] = (byte)(height >> 24); b[21] = (byte)(height >> 16); b[22] = (byte)(height >> 8); b[23] = (byte)height;
        uint crc = Crc(b.AsSpan(12, 17));
        b[29] = (byte)(crc >> 24); b[30] = (byte)(crc >> 16); b[31] = (byte)(crc >> 8); b[32] = (byte)crc;
        return b;
    }

    static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xffffffff;
        foreach (var d in data)
        {
            c ^= d; for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xffffffff;
    }

    // a valid 1×1 GIF89a
    static readonly byte[] Gif = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
        0x21, 0xf9, 4, 0, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b];
    // a little-endian TIFF header with one empty IFD
    static readonly byte[] Tiff = [0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    [Fact]
    public void A_batch_with_bad_files_reports_each_once_processes_the_rest_and_exits_2()
    {
        var root = TestPaths.TempDir();
        var inDir = Folder(root, "in");
        ImageCodec.Write(Pattern(40, 24, 3), Path.Combine(inDir, "good1.png"));
        ImageCodec.Write(Pattern(33, 17, 3), Path.Combine(inDir, "good2.jpg"));
        File.WriteAllBytes(Path.Combine(inDir, "empty.png"), []);
        var full = ImageCodec.EncodePng(Pattern(64, 64, 3));
        File.WriteAllBytes(Path.Combine(inDir, "truncated.png"), full[..(full.Length / 2)]);
        File.WriteAllText(Path.Combine(inDir, "notimage.png"), "this is not an image\n");
        File.WriteAllBytes(Path.Combine(inDir, "huge.png"), PngHeaderClaiming(100000, 100000));
        File.WriteAllBytes(Path.Combine(inDir, "huge16.png"), PngHeaderClaiming(100000, 100000, 16));
        File.WriteAllBytes(Path.Combine(inDir, "anim.gif"), Gif);
        File.WriteAllBytes(Path.Combine(inDir, "scan.tif"), Tiff);
        File.WriteAllBytes(Path.Combine(inDir, "gif-named.png"), Gif);
        string[] bad = ["empty.png", "truncated.png", "notimage.png", "huge.png", "huge16.png", "anim.gif", "scan.tif",
            "gif-named.png"];

        var outDir = Path.Combine(root, "out");
        var (code, err) = Restore(inDir, "-o", outDir);
        Assert.Equal(2, code);
        foreach (var name in bad)
        {
            var lines = err.Where(l => l.Contains(name)).ToList();
            Assert.True(lines.Count == 1,
                $"{name}: expected one stderr line, got {lines.Count}:\n{string.Join("\n", err)}");
            Assert.StartsWith("skipped: ", lines[0]);
        }
        Assert.Contains(err, l => l.Contains("huge.png") && l.Contains("megapixels"));
        Assert.Contains(err, l => l.Contains("huge16.png") && l.Contains("megapixels"));
        Assert.Contains(err, l => l.Contains("empty.png") && l.Contains("empty"));
        Assert.Contains(err, l => l.Contains("truncated.png") && l.Contains("truncated"));
        Assert.Contains(err, l => l.Contains("anim.gif") && l.Contains("unsupported"));
        Assert.Equal(["good1.png", "good2.jpg"],
            Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal((40, 24), Size(Path.Combine(outDir, "good1.png")));
        Assert.Equal((33, 17), Size(Path.Combine(outDir, "good2.jpg")));
    }

    static (int, int) Size(string path) { var i = ImageCodec.Read(path); return (i.Width, i.Height); }

    [Fact]
    public void The_pixel_limit_is_applied_from_the_header()
    {
        var root = TestPaths.TempDir();
        var f = Path.Combine(root, "a.png");
        ImageCodec.Write(Pattern(20, 20, 3), f);
        var (code, err) = Restore(f, "-o", Path.Combine(root, "o.png"), "--max-pixels", "100");
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.Contains("a.png") && l.Contains("--max-pixels"));
        Assert.False(File.Exists(Path.Combine(root, "o.png")));
    }

    [Theory]
    [InlineData(1, 8, 40, 30)]   // grey
    [InlineData(3, 16, 40, 30)]  // 16-bit RGB
    [InlineData(1, 16, 21, 13)]  // 16-bit grey, odd
    [InlineData(4, 8, 37, 23)]   // RGBA, odd
    [InlineData(3, 8, 1, 1)]     // 1×1
    [InlineData(3, 8, 101, 7)]   // odd, thinner than 8
    public void Images_restore_at_their_own_size_depth_and_channels(int channels, int bits, int w, int h)
    {
        var root = TestPaths.TempDir();
        var f = Path.Combine(root, "in.png");
        ImageCodec.Write(Pattern(w, h, channels, bits), f, bits);
        foreach (var tile in new[] { "0", "8" })
        {
            var o = Path.Combine(root, $"out{tile}.png");
            var (code, err) = Restore(f, "-o", o, "--tile", tile, "--tile-overlap", "4");
            Assert.True(code == 0, string.Join("\n", err));
            var r = ImageCodec.Read(o);
            Assert.Equal((w, h, channels, bits), (r.Width, r.Height, r.Channels, r.BitDepth));
        }
    }

    [Fact]
    public void Skip_existing_format_and_side_by_side()
    {
        var root = TestPaths.TempDir();
        var inDir = Folder(root, "in");
        ImageCodec.Write(Pattern(24, 16, 3), Path.Combine(inDir, "a.png"));
        ImageCodec.Write(Pattern(20, 12, 4), Path.Combine(inDir, "b.webp"));
        var outDir = Path.Combine(root, "out");

        var (code, err) = Restore(inDir, "-o", outDir, "--format", "jpg", "--side-by-side");
        Assert.True(code == 0, string.Join("\n", err));
        Assert.Equal(["a.jpg", "a.side.jpg", "b.jpg", "b.side.jpg"],
            Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal((48, 16), Size(Path.Combine(outDir, "a.side.jpg")));
        // atomic writes leave no temp files
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp", SearchOption.AllDirectories));

        // a marker in place of an output survives a rerun with --skip-existing; the missing one is redone
        File.WriteAllText(Path.Combine(outDir, "a.jpg"), "marker");
        File.Delete(Path.Combine(outDir, "b.jpg"));
        (code, err) = Restore(inDir, "-o", outDir, "--format", "jpg", "--side-by-side", "--skip-existing");
        Assert.True(code == 0, string.Join("\n", err));
        Assert.Equal("marker", File.ReadAllText(Path.Combine(outDir, "a.jpg")));
        Assert.Equal((20, 12), Size(Path.Combine(outDir, "b.jpg")));
        Assert.Contains(err, l => l.Contains("1 already done"));

        // without --format the input's format is kept
        var keep = Path.Combine(root, "keep");
        (code, _) = Restore(inDir, "-o", keep);
        Assert.Equal(0, code);
        Assert.Equal(["a.png", "b.webp"],
            Directory.GetFiles(keep).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Shards_partition_a_folder_exactly()
    {
        var root = TestPaths.TempDir();
        var inDir = Folder(root, "in");
        for (int i = 0; i < 12; i++) ImageCodec.Write(Pattern(8 + i, 8, 3), Path.Combine(inDir, $"img{i:00}.png"));
        var seen = new List<string>();
        for (int s = 0; s < 3; s++)
        {
            var outDir = Path.Combine(root, $"out{s}");
            var (code, err) = Restore(inDir, "-o", outDir, "--shard", $"{s}/3");
            Assert.True(code == 0, string.Join("\n", err));
            Assert.Contains(err, l => l.StartsWith($"shard {s}/3"));
            if (Directory.Exists(outDir)) seen.AddRange(Directory.GetFiles(outDir).Select(Path.GetFileName)!);
        }
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"img{i:00}.png"), seen.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("--shard", "3/3")]
    [InlineData("--shard", "x")]
    [InlineData("--tile", "100")]
    [InlineData("--tile-overlap", "-1")]
    [InlineData("--max-memory", "lots")]
    [InlineData("--format", "gif")]
    [InlineData("--bits", "12")]
    public void Bad_options_exit_2_with_one_clear_line(string option, string value)
    {
        var root = TestPaths.TempDir();
        var f = Path.Combine(root, "a.png");
        ImageCodec.Write(Pattern(8, 8, 3), f);
        var (code, err) = Restore(f, "-o", Path.Combine(root, "o.png"), option, value);
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.StartsWith("error: ") && l.Contains(option));
    }

    [Fact]
    public void Outputs_never_overwrite_inputs_and_names_never_collide()
    {
        var root = TestPaths.TempDir();
        var inDir = Folder(root, "in");
        ImageCodec.Write(Pattern(8, 8, 3), Path.Combine(inDir, "a.png"));
        ImageCodec.Write(Pattern(8, 8, 3), Path.Combine(inDir, "a.bmp"));
        var before = File.ReadAllBytes(Path.Combine(inDir, "a.png"));
        var (code, err) = Restore(inDir, "-o", inDir, "--format", "png");
        Assert.Equal(2, code);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(inDir, "a.png")));
        Assert.Equal(2, err.Count(l => l.StartsWith("skipped: ")));
    }

    [Fact]
    public void Side_path_sits_beside_the_output() =>
        Assert.Equal(Path.Combine("o", "x.side.png"),
            MemoryNet.Inference.OutputPlan.SidePath(Path.Combine("o", "x.png")));

    [Fact]
    public void Tlc_takes_local_means_only_where_the_image_is_larger_than_its_window()
    {
        var root = TestPaths.TempDir();
        var a = Path.Combine(root, "a.png");
        ImageCodec.Write(Pattern(64, 40, 3, bits: 16), a); // 16-bit: the tiny random model changes little
        string Out(string name) => Path.Combine(root, name);
        Assert.Equal(0, Restore(a, "-o", Out("plain.png")).Item1);
        Assert.Equal(0, Restore(a, "-o", Out("wide.png"), "--tlc", "64").Item1);   // windows of 96 px: global
        Assert.Equal(0, Restore(a, "-o", Out("local.png"), "--tlc", "8").Item1);   // windows of 12 px
        var (plain, wide, local) = (ImageCodec.Read(Out("plain.png")), ImageCodec.Read(Out("wide.png")),
            ImageCodec.Read(Out("local.png")));
        Assert.Equal(plain.Pixels, wide.Pixels);
        Assert.Contains(Enumerable.Range(0, plain.Pixels.Length),
            i => Math.Abs(plain.Pixels[i] - local.Pixels[i]) > 1.5 / 65535);
        var (code, err) = Restore(a, "-o", Out("bad.png"), "--tlc", "1");
        Assert.Equal(2, code);
        Assert.Contains(err,
            l => l.Contains("training patch must be a multiple of 8 for custom, from 8 to 1024 pixels (got 1)"));
        var (evalCode, evalErr) = Run("eval", "--pred", root, "--gt", root, "--protocol", "rgb", "--tlc", "64");
        Assert.Equal(2, evalCode);
        Assert.Contains(evalErr, l => l.Contains("--tlc restores with a model"));
    }

    [Fact]
    public void A_model_file_can_restore_with_local_statistics_by_default_and_0_turns_them_off()
    {
        var root = TestPaths.TempDir();
        var a = Path.Combine(root, "a.png");
        ImageCodec.Write(Pattern(64, 40, 3, bits: 16), a);
        string Out(string name) => Path.Combine(root, name);
        var withTlc = Out("tlc8.safetensors");
        Assert.Equal(0, Run("models", "import", Model, "-o", withTlc, "--tlc", "8").Code);
        Assert.Equal(0, Restore(a, "-o", Out("plain.png")).Item1);
        Assert.Equal(0, Restore(a, "-o", Out("local.png"), "--tlc", "8").Item1);
        (int, string[]) RestoreWith(string model, params string[] args) =>
            Run(["restore", .. args, "--model", model, "--threads", "1"]);
        Assert.Equal(0, RestoreWith(withTlc, a, "-o", Out("default.png")).Item1);
        Assert.Equal(0, RestoreWith(withTlc, a, "-o", Out("off.png"), "--tlc", "0").Item1);
        var plain = ImageCodec.Read(Out("plain.png")).Pixels;
        Assert.Equal(ImageCodec.Read(Out("local.png")).Pixels, ImageCodec.Read(Out("default.png")).Pixels);
        Assert.Equal(plain, ImageCodec.Read(Out("off.png")).Pixels);
        Assert.NotEqual(plain, ImageCodec.Read(Out("default.png")).Pixels);

        var (code, err) = Run("models", "import", Model, "-o", Out("bad.safetensors"), "--tlc", "12");
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.Contains("training patch must be a multiple of 8"));
        Assert.False(File.Exists(Out("bad.safetensors")));
        Assert.Equal(2, Restore(a, "-o", Out("neg.png"), "--tlc", "-8").Item1);
    }

    [Fact]
    public void Self_ensemble_output_mirrors_with_its_input()
    {
        var root = TestPaths.TempDir();
        var img = Pattern(20, 12, 3);
        var mirrored = new float[img.Pixels.Length];
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 20; x++)
                for (int k = 0; k < 3; k++)
                    mirrored[(y * 20 + x) * 3 + k] = img.Pixels[(y * 20 + 19 - x) * 3 + k];
        ImageCodec.Write(img, Path.Combine(root, "a.png"));
        ImageCodec.Write(new ImageData(20, 12, 3, 8, mirrored), Path.Combine(root, "m.png"));
        Assert.Equal(0, Restore(Path.Combine(root, "a.png"), "-o", Path.Combine(root, "a1.png")).Item1);
        Assert.Equal(0,
            Restore(Path.Combine(root, "a.png"), "-o", Path.Combine(root, "ae.png"), "--self-ensemble").Item1);
        Assert.Equal(0,
            Restore(Path.Combine(root, "m.png"), "-o", Path.Combine(root, "me.png"), "--self-ensemble").Item1);
        var (plain, ae, me) = (ImageCodec.Read(Path.Combine(root, "a1.png")),
            ImageCodec.Read(Path.Combine(root, "ae.png")), ImageCodec.Read(Path.Combine(root, "me.png")));
        double worst = 0, changed = 0;
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 20; x++)
                for (int k = 0; k < 3; k++)
                {
                    int i = (y * 20 + x) * 3 + k;
                    worst = Math.Max(worst, Math.Abs(ae.Pixels[i] - me.Pixels[(y * 20 + 19 - x) * 3 + k]));
                    changed = Math.Max(changed, Math.Abs(ae.Pixels[i] - plain.Pixels[i]));
                }
        Assert.True(worst <= 1.01 / 255, $"mirrored self-ensemble outputs differ by {worst * 255:0.00}/255");
        Assert.True(changed > 1.5 / 255, "the self-ensemble gives the plain pass's output");
        var (code, err) = Run("eval", "--pred", root, "--gt", root, "--protocol", "rgb", "--self-ensemble");
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.Contains("--self-ensemble restores with a model"));
        var (badCode, badErr) =
            Restore(Path.Combine(root, "a.png"), "-o", Path.Combine(root, "ax.png"), "--self-ensemble", "x4");
        Assert.Equal(2, badCode);
        Assert.Contains(badErr, l => l.Contains("--self-ensemble takes x8, flips or none (got 'x4'"));
        Assert.Equal(0,
            Restore(Path.Combine(root, "a.png"), "-o", Path.Combine(root, "af.png"), "--self-ensemble", "flips").Item1);
        var flips = ImageCodec.Read(Path.Combine(root, "af.png"));
        Assert.Contains(Enumerable.Range(0, flips.Pixels.Length),
            i => Math.Abs(flips.Pixels[i] - ae.Pixels[i]) > 1.5 / 255); // four passes are not the eight
        // bare before the input path: x8, and the path stays an input
        Assert.Equal(0,
            Restore("--self-ensemble", Path.Combine(root, "a.png"), "-o", Path.Combine(root, "ab.png")).Item1);
        Assert.Equal(ae.Pixels, ImageCodec.Read(Path.Combine(root, "ab.png")).Pixels);
    }

    /// <summary>A fresh folder holding one 24×16 photo.png.</summary>
    static (string Root, string Input) OnePhoto()
    {
        var root = TestPaths.TempDir();
        var input = Path.Combine(root, "photo.png");
        ImageCodec.Write(Pattern(24, 16, 3), input);
        return (root, input);
    }

    [Fact]
    public void One_file_with_an_output_name_without_extension_goes_into_that_folder()
    {
        var (root, input) = OnePhoto();
        var outDir = Path.Combine(root, "restored");
        var (code, _) = Restore(input, "-o", outDir);
        Assert.Equal(0, code);
        var written = ImageCodec.Read(Path.Combine(outDir, "photo.png"));
        Assert.Equal((24, 16), (written.Width, written.Height));
    }

    [Fact]
    public void One_file_with_an_unwritable_output_extension_is_refused_before_any_work()
    {
        var (root, input) = OnePhoto();
        var target = Path.Combine(root, "photo.tif");
        var (code, err) = Run("restore", input, "-o", target, "--model", Path.Combine(root, "no-such-model.pth"));
        Assert.Equal(2, code);
        var line = Assert.Single(err, l => l.Contains("photo.tif"));
        Assert.Contains("cannot write '.tif'", line);
        Assert.DoesNotContain(err, l => l.Contains("no-such-model")); // refused before the model is even looked for
        Assert.False(File.Exists(target));
    }
}
