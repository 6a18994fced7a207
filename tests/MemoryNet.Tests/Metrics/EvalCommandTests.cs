using System.CommandLine;
using System.Text.Json;
using MemoryNet.Cli;
using MemoryNet.Imaging;

namespace MemoryNet.Tests.Metrics;

public class EvalCommandTests
{
    static int Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Options.Add(CliCommon.Verbose);
        foreach (var c in CommandRegistry.All()) root.Subcommands.Add(c);
        return CliCommon.Invoke(root, args);
    }

    static string Fx(string d) => TestPaths.Fixtures("Metrics", d);
    static readonly JsonElement Gold =
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixtures("Metrics", "golden.json"))).RootElement;

    [Theory]
    [InlineData("rgb")]
    [InlineData("y")]
    [InlineData("raindrop")]
    [InlineData("istd")]
    [InlineData("istd-full")]
    public void Json_report_has_the_contract_fields_and_golden_means(string protocol)
    {
        var d = TestPaths.TempDir();
        var json = Path.Combine(d, "r.json");
        var csv = Path.Combine(d, "r.csv");
        Assert.Equal(0,
            Run("eval", "--pred", Fx("pred"), "--gt", Fx("gt"), "--mask", Fx("mask"), "--protocol", protocol, "--json",
                json, "--csv", csv));
        var r = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(protocol, r.GetProperty("protocol").GetString());
        var g = Gold.GetProperty("protocols").GetProperty(protocol);
        var names = g.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(names.Count, r.GetProperty("count").GetInt32());
        Assert.Equal(names.Average(n => g.GetProperty(n).GetProperty("psnr").GetDouble()),
            r.GetProperty("psnr").GetDouble(), 3);
        Assert.InRange(
            r.GetProperty("ssim").GetDouble() - names.Average(n => g.GetProperty(n).GetProperty("ssim").GetDouble()),
            -1e-4, 1e-4);
        Assert.Equal(names.Count, r.GetProperty("per_image").GetArrayLength());
        var row = r.GetProperty("per_image")[0];
        Assert.True(row.TryGetProperty("name", out _) && row.TryGetProperty("psnr", out _)
            && row.TryGetProperty("ssim", out _));
        bool lab = protocol.StartsWith("istd");
        Assert.Equal(lab ? JsonValueKind.Number : JsonValueKind.Null, r.GetProperty("rmse_lab").ValueKind);
        Assert.Equal(lab ? JsonValueKind.Object : JsonValueKind.Null, r.GetProperty("regions").ValueKind);
        if (lab)
        {
            double sum = names.Sum(n => g.GetProperty(n).GetProperty("all_sum").GetDouble());
            double pix = names.Sum(n => g.GetProperty(n).GetProperty("all_pixels").GetDouble());
            Assert.Equal(sum / pix, r.GetProperty("rmse_lab").GetDouble(), 6);
            double ssum = names.Sum(n => g.GetProperty(n).GetProperty("shadow_sum").GetDouble());
            double spix = names.Sum(n => g.GetProperty(n).GetProperty("shadow_pixels").GetDouble());
            Assert.Equal(ssum / spix,
                r.GetProperty("regions").GetProperty("shadow").GetProperty("rmse_lab").GetDouble(), 6);
            double perImage =
                names.Average(n => g.GetProperty(n).GetProperty("shadow_sum").GetDouble()
                    / g.GetProperty(n).GetProperty("shadow_pixels").GetDouble());
            Assert.Equal(perImage,
                r.GetProperty("regions").GetProperty("shadow").GetProperty("rmse_lab_per_image").GetDouble(), 6);
            Assert.True(r.GetProperty("regions").TryGetProperty("non_shadow", out _));
        }
        var lines = File.ReadAllLines(csv);
        Assert.StartsWith("name,psnr,ssim", lines[0]);
        Assert.Equal(names.Count + 1, lines.Length);
    }

    [Fact]
    public void A_task_scores_under_its_own_protocol_unless_one_is_named()
    {
        var d = TestPaths.TempDir();
        var data = Path.Combine(d, "pairs");
        foreach (var (from, to) in new[] { ("pred", "input"), ("gt", "target") })
        {
            Directory.CreateDirectory(Path.Combine(data, to));
            foreach (var f in Directory.GetFiles(Fx(from))) File.Copy(f, Path.Combine(data, to, Path.GetFileName(f)));
        }
        string Protocol(params string[] extra)
        {
            var json = Path.Combine(d, Guid.NewGuid() + ".json");
            Assert.Equal(0,
                Run(["eval", "--task", "derain", "--data", data, "--layout", "paired", "--json", json, .. extra]));
            return JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("protocol").GetString()!;
        }
        Assert.Equal(MemoryNet.Data.RestorationTasks.Derain.Protocol, Protocol());
        Assert.Equal("y", Protocol());
        Assert.Equal("rgb", Protocol("--protocol", "rgb"));
        // --save writes each restored image and its input | restored | target strip
        var save = Path.Combine(d, "saved");
        Protocol("--save", save);
        foreach (var f in Directory.GetFiles(Path.Combine(data, "input")))
        {
            string stem = Path.GetFileNameWithoutExtension(f);
            var restored = ImageCodec.Read(Path.Combine(save, stem + ".png"));
            var strip = ImageCodec.Read(Path.Combine(save, stem + ".strip.png"));
            Assert.True(strip.Width >= 3 * restored.Width);
        }
    }

    [Fact]
    public void Identical_sets_give_inf_string()
    {
        var d = TestPaths.TempDir();
        var json = Path.Combine(d, "r.json");
        Assert.Equal(0, Run("eval", "--pred", Fx("gt"), "--gt", Fx("gt"), "--protocol", "rgb", "--json", json));
        var r = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("inf", r.GetProperty("psnr").GetString());
        Assert.Equal(1.0, r.GetProperty("ssim").GetDouble(), 9);
        Assert.Equal("inf", r.GetProperty("per_image")[0].GetProperty("psnr").GetString());
    }

    [Fact]
    public void Bad_input_exits_2()
    {
        var d = TestPaths.TempDir();
        var p = Path.Combine(d, "p"); var g = Path.Combine(d, "g");
        Directory.CreateDirectory(p); Directory.CreateDirectory(g);
        ImageCodec.Write(new ImageData(8, 8, 3, 8, new float[192]), Path.Combine(p, "a.png"));
        ImageCodec.Write(new ImageData(8, 8, 3, 8, new float[192]), Path.Combine(g, "b.png"));
        Assert.Equal(2, Run("eval", "--pred", p, "--gt", g, "--protocol", "rgb"));           // unmatched
        ImageCodec.Write(new ImageData(9, 8, 3, 8, new float[216]), Path.Combine(g, "a.png"));
        File.Delete(Path.Combine(g, "b.png"));
        Assert.Equal(2, Run("eval", "--pred", p, "--gt", g, "--protocol", "rgb"));           // sizes differ
        Assert.Equal(2, Run("eval", "--pred", p, "--gt", g, "--protocol", "nope"));          // unknown protocol
        Assert.Equal(2, Run("eval", "--pred", Fx("pred"), "--gt", Fx("gt"), "--protocol", "istd")); // no masks
        // border eats all
        Assert.Equal(2, Run("eval", "--pred", Fx("pred"), "--gt", Fx("gt"), "--protocol", "rgb", "--border", "100"));
    }

    [Fact]
    public void One_pixel_images_report_null_ssim()
    {
        var d = TestPaths.TempDir();
        var p = Path.Combine(d, "p"); var g = Path.Combine(d, "g");
        ImageCodec.Write(new ImageData(1, 1, 3, 8, [0.2f, 0.4f, 0.6f]), Path.Combine(p, "x.png"));
        ImageCodec.Write(new ImageData(1, 1, 3, 8, [0.2f, 0.5f, 0.6f]), Path.Combine(g, "x.png"));
        var json = Path.Combine(d, "r.json");
        Assert.Equal(0, Run("eval", "--pred", p, "--gt", g, "--protocol", "y", "--json", json));
        var r = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(JsonValueKind.Null, r.GetProperty("ssim").ValueKind);
        Assert.Equal(JsonValueKind.Number, r.GetProperty("psnr").ValueKind);
        Assert.Equal(2, Run("eval", "--pred", p, "--gt", g, "--protocol", "raindrop"));
    }
}
