using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Xunit.Abstractions;
using MemoryNet.Modules;
using MemoryNet.Weights;

namespace MemoryNet.Tests.Web;

/// <summary>`memorynet serve` as its own process, so that its peak resident memory can be read.</summary>
public sealed class ServeMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A24MegapixelUploadRestoresWithinTheServersDefaultMemory()
    {
        var dir = TestPaths.TempDir();
        string model = Path.Combine(dir, "derain.safetensors");
        using (var m = new MemoryNetModel(new ArchSpec("custom", 4, 2, 2, 1, 0)))
            ModelFile.Save(m, model, new Dictionary<string, string> { ["task"] = "derain" });
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0)) { probe.Start(); port = ((IPEndPoint)probe.LocalEndpoint).Port; probe.Stop(); }
        string url = $"http://127.0.0.1:{port}";

        var (process, _) = CliProcess.Start("serve", "--urls", url, "--model", model, "--threads", "2", "--quiet");
        using var server = process;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            var ready = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(server.HasExited, "the server exited while starting");
                try { if ((await http.GetAsync(url + "/v1/health")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) { }
                Assert.True(ready.Elapsed < TimeSpan.FromMinutes(2), "the server did not start");
                await Task.Delay(200);
            }

            var png = WebTestData.Png(6000, 4000); // 24 MP: restored whole, a network this size needs ~10 GB
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(png);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, "image", "big.png");
            using var response = await http.PostAsync(url + "/v1/restore", form);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal((6000, 4000), WebTestData.PngSize(await response.Content.ReadAsByteArrayAsync()));

            double peakMb = File.ReadLines($"/proc/{server.Id}/status").Where(l => l.StartsWith("VmHWM:"))
                .Select(l => double.Parse(l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).Single();
            output.WriteLine($"24 MP restore: server peak resident memory {peakMb:0} MB");
            Assert.True(peakMb < 3 * 1024, $"server peak resident memory {peakMb:0} MB (bound 3 GB with the default --max-memory 2GB)");
            Assert.False(server.HasExited);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }
}
