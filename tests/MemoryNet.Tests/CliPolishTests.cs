using System.Text.Json;
using MemoryNet.Cli.Commands;
using MemoryNet.Cli.Serve;
using MemoryNet.Imaging;

namespace MemoryNet.Tests;

/// <summary>The command line as a user meets it: help, typos, JSON outputs, quiet runs, old spellings, a busy
/// port.</summary>
[Collection("Console")]
public class CliPolishTests
{
    static readonly string Model = TestPaths.Fixtures("Parity", "tiny_memorynet_plain.pth");

    static (int Code, string Out, string[] Err) RunWithOut(params string[] args)
    {
        var old = Console.Out;
        var sw = new StringWriter();
        Console.SetOut(sw);
        try
        {
            var (code, err) = CliRunner.Run(args);
            return (code, sw.ToString(), err);
        }
        finally { Console.SetOut(old); }
    }

    [Fact]
    public void Bare_memorynet_prints_the_help_and_succeeds()
    {
        var (code, output, _) = RunWithOut();
        Assert.Equal(0, code);
        Assert.Contains("restore", output);
        Assert.Contains("train", output);
    }

    [Fact]
    public void A_mistyped_option_is_an_error_naming_the_closest_one_not_a_file()
    {
        var (code, err) = CliRunner.Run("restore", "x.png", "-o", "y.png", "--taks", "derain");
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.Contains("unknown option '--taks'") && l.Contains("did you mean --task?"));
        Assert.DoesNotContain(err, l => l.Contains("no such file"));
        (code, err) = CliRunner.Run("eval", "--pred", "a", "--gt", "b", "--protocl", "y");
        Assert.Equal(2, code);
        Assert.Contains(err, l => l.Contains("--protocol?"));
    }

    [Fact]
    public void Models_list_json_names_every_bundled_model()
    {
        var (code, output, _) = RunWithOut("models", "list", "--json");
        Assert.Equal(0, code);
        var models = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        var names = models.Select(m => m.GetProperty("name").GetString()).ToList();
        foreach (var f in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "models"), "*.safetensors"))
            Assert.Contains(Path.GetFileNameWithoutExtension(f), names);
        Assert.All(models, m => Assert.True(m.GetProperty("parameters").GetInt64() > 0));
    }

    [Fact]
    public void Restore_json_reports_every_input_quiet_prints_only_problems_and_jpeg_quality_is_used()
    {
        var root = TestPaths.TempDir();
        var input = Path.Combine(root, "in");
        Directory.CreateDirectory(input);
        var px = new float[96 * 64 * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (float)(0.5 + 0.4 * Math.Sin(0.37 * i));
        ImageCodec.Write(new ImageData(96, 64, 3, 8, px), Path.Combine(input, "a.png"));
        File.WriteAllText(Path.Combine(input, "b.png"), "not an image");
        long Run(int quality, string outDir, string json)
        {
            var (code, err) = CliRunner.Run("restore", input, "-o", outDir, "--model", Model, "--threads", "1",
                "--format", "jpg",
                "--jpeg-quality", quality.ToString(), "--json", json, "--quiet");
            Assert.Equal(2, code); // one bad input
            Assert.Equal(
                ["skipped: " + Path.Combine(input, "b.png") +
                    ": not an image in a supported format (PNG, JPEG, BMP, WebP)"], err);
            return new FileInfo(Path.Combine(outDir, "a.jpg")).Length;
        }
        var json = Path.Combine(root, "report.json");
        long low = Run(20, Path.Combine(root, "low"), json), high = Run(98, Path.Combine(root, "high"), json);
        Assert.True(low < high, $"quality 20: {low} bytes, 98: {high} bytes");
        var rows = JsonDocument.Parse(File.ReadAllText(json)).RootElement.EnumerateArray()
            .ToDictionary(r => Path.GetFileName(r.GetProperty("file").GetString()!));
        Assert.Equal("restored", rows["a.png"].GetProperty("status").GetString());
        Assert.Equal(Path.Combine(root, "high", "a.jpg"), rows["a.png"].GetProperty("output").GetString());
        Assert.True(rows["a.png"].GetProperty("seconds").GetDouble() > 0);
        Assert.Equal("bad-input", rows["b.png"].GetProperty("status").GetString());
        Assert.Contains("not an image", rows["b.png"].GetProperty("error").GetString());
        Assert.Equal(2, CliRunner.Run("restore", input, "-o", root, "--model", Model, "--jpeg-quality", "0").Code);
    }

    [Fact]
    public void Train_help_describes_every_option_with_its_default()
    {
        var train = TrainCommand.Create();
        Assert.All(train.Options,
            o => Assert.False(string.IsNullOrWhiteSpace(o.Description), $"{o.Name} has no description"));
        Assert.Contains("[default: 256]", train.Options.Single(o => o.Name == "--patch").Description);
        Assert.Contains("--format", train.Options.Single(o => o.Name == "--layout").Aliases);
    }

    [Fact]
    public void The_old_layout_spelling_still_works_with_a_warning()
    {
        var data = Path.Combine(TestPaths.TempDir(), "pairs");
        foreach (var (from, to) in new[] { ("pred", "input"), ("gt", "target") })
        {
            Directory.CreateDirectory(Path.Combine(data, to));
            foreach (var f in Directory.GetFiles(TestPaths.Fixtures("Metrics", from)))
                File.Copy(f, Path.Combine(data, to, Path.GetFileName(f)));
        }
        var (code, err) = CliRunner.Run("eval", "--model", Model, "--data", data, "--format", "paired", "--protocol",
            "rgb", "--threads", "1");
        Assert.Equal(0, code);
        Assert.Contains(err, l => l.Contains("--format is now --layout"));
        (code, err) = CliRunner.Run("eval", "--model", Model, "--data", data, "--layout", "paired", "--protocol", "rgb",
            "--threads", "1");
        Assert.Equal(0, code);
        Assert.DoesNotContain(err, l => l.Contains("warning"));
    }

    [Fact]
    public async Task A_port_already_taken_is_one_clear_error()
    {
        await using var first = await RestoreServer.StartAsync(Web.WebTestData.Options());
        var e = await Assert.ThrowsAsync<UserInputException>(
            () => RestoreServer.StartAsync(Web.WebTestData.Options() with { Urls = first.Address }));
        Assert.Contains("cannot listen", e.Message);
        Assert.Contains(first.Address, e.Message);
    }
}
