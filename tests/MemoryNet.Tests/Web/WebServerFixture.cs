using MemoryNet.Architectures.Mpr;
using MemoryNet.Cli.Serve;
using MemoryNet.Imaging;
using MemoryNet.Weights;

namespace MemoryNet.Tests.Web;

/// <summary>Tiny untrained models on disk (a --model file and a bundled models/derain.safetensors) and test
/// images.</summary>
public static class WebTestData
{
    static readonly Lazy<string> Dir = new(() =>
    {
        var dir = TestPaths.TempDir();
        var models = Directory.CreateDirectory(Path.Combine(dir, "models")).FullName;
        using var model = new MemoryNetModel(new ArchSpec("custom", 4, 2, 2, 1, 3));
        ModelFile.Save(model, Path.Combine(dir, "tiny.safetensors"),
            new Dictionary<string, string> { ["note"] = "untrained test model" });
        ModelFile.Save(model, Path.Combine(models, "derain.safetensors"),
            new Dictionary<string, string> { ["task"] = "derain" });
        return dir;
    });

    static readonly Lazy<string> PreviewDir = new(() =>
    {
        // a tiny untrained MPRNet-style network (no memory) whose output is the input plus a faint residual:
        // stage 3 adds the tail's output to the image, so shrinking the tail keeps the "after" side recognisable
        var dir = Directory.CreateDirectory(Path.Combine(Dir.Value, "preview-models")).FullName;
        using var model = new MemoryNetModel(new ArchSpec("custom", 4, 2, 2, 1, 0));
        using (TorchSharp.torch.no_grad())
            foreach (var (name, t) in StateDict.Entries(model))
                if (name.StartsWith("tail.")) t.mul_(0.05);
        ModelFile.Save(model, Path.Combine(dir, "derain.safetensors"),
            new Dictionary<string, string> { ["task"] = "derain", ["note"] = "untrained preview model" });
        return dir;
    });

    /// <summary>A bundled-models folder whose derain model leaves images recognisable (for the page
    /// screenshot).</summary>
    public static string PreviewModelsFolder => PreviewDir.Value;

    /// <summary>The --model file.</summary>
    public static string ModelFilePath => Path.Combine(Dir.Value, "tiny.safetensors");

    /// <summary>A bundled-models folder holding only derain.safetensors.</summary>
    public static string ModelsFolder => Path.Combine(Dir.Value, "models");

    public static ServeOptions Options(int concurrency = 1, int queue = 16) => new()
    {
        Urls = "http://127.0.0.1:0",
        ModelPath = ModelFilePath,
        ModelsFolder = ModelsFolder,
        Concurrency = concurrency,
        Queue = queue,
    };

    /// <summary>A PNG of a sky-and-hills scene with rain streaks (deterministic).</summary>
    public static byte[] Png(int width, int height, int channels = 3, int seed = 1)
    {
        var rng = new Random(seed);
        var px = new float[width * height * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                float fy = y / (float)height, fx = x / (float)width;
                bool hill = fy > 0.62f + 0.12f * MathF.Sin(fx * 6.3f) * 0.8f;
                float r = hill ? 0.25f + 0.1f * fx : 0.45f + 0.3f * fy;
                float g = hill ? 0.5f - 0.15f * fy : 0.6f + 0.25f * fy;
                float b = hill ? 0.25f : 0.9f - 0.1f * fy;
                var c = new[] { r, g, b, 1f };
                for (int k = 0; k < channels; k++)
                    px[(y * width + x) * channels + k] = channels == 1 ? (r + g + b) / 3 : c[k];
            }
        // rain: thin bright slanted streaks
        for (int i = 0; i < width * height / 150; i++)
        {
            int x0 = rng.Next(width), y0 = rng.Next(height), len = 6 + rng.Next(14);
            for (int t = 0; t < len; t++)
            {
                int x = x0 + t / 4, y = y0 + t;
                if (x >= width || y >= height) break;
                for (int k = 0; k < Math.Min(channels, 3); k++)
                {
                    int o = (y * width + x) * channels + k;
                    px[o] = Math.Min(1f, px[o] * 0.5f + 0.5f);
                }
            }
        }
        return ImageCodec.EncodePng(new ImageData(width, height, channels, 8, px));
    }

    public static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.Length > 24 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "not a PNG");
        int w = png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
        int h = png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
        return (w, h);
    }
}

/// <summary>One server for the API tests of a class (started on a free port, stopped at the end).</summary>
public sealed class WebServerFixture : IAsyncLifetime
{
    public RestoreServer Server { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RestoreServer.StartAsync(WebTestData.Options());
        Client = new HttpClient { BaseAddress = new Uri(Server.Address), Timeout = TimeSpan.FromSeconds(120) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
