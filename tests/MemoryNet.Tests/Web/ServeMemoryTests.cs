using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net;
using MemoryNet.Architectures.Mpr;
using MemoryNet.Weights;
using Xunit.Abstractions;

namespace MemoryNet.Tests.Web;

/// <summary>`memorynet serve` as its own process, so that its peak resident memory can be read.</summary>
public sealed class ServeMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FourConcurrent24MegapixelUploadsStayWithinTheServersDefaultMemory()
    {
        var dir = TestPaths.TempDir();
        string model = Path.Combine(dir, "derain.safetensors");
        using (var m = new MemoryNetModel(new ArchSpec("custom", 4, 2, 2, 1, 0)))
            ModelFile.Save(m, model, new Dictionary<string, string> { ["task"] = "derain" });
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start(); port = ((IPEndPoint)probe.LocalEndpoint).Port; probe.Stop();
        }
        string url = $"http://127.0.0.1:{port}";

        var (process, _) = CliProcess.Start("serve", "--urls", url, "--model", model, "--threads", "2", "--queue",
            "1", "--quiet");
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
            async Task<(HttpStatusCode Code, byte[] Body)> Upload()
            {
                using var form = new MultipartFormDataContent();
                var file = new ByteArrayContent(png);
                file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                form.Add(file, "image", "big.png");
                using var response = await http.PostAsync(url + "/v1/restore", form);
                return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
            }
            // four at once with one slot and a queue of one: one restores, one waits (holding its compressed bytes),
            // two are turned away with 503; never more memory
            var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Upload()));
            Assert.All(results,
                r => Assert.Contains(r.Code, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
            var ok = results.Where(r => r.Code == HttpStatusCode.OK).ToList();
            Assert.NotEmpty(ok);
            Assert.Contains(results, r => r.Code == HttpStatusCode.ServiceUnavailable);
            Assert.All(ok, r => Assert.Equal((6000, 4000), WebTestData.PngSize(r.Body)));
            double peakMb = File.ReadLines($"/proc/{server.Id}/status").Where(l => l.StartsWith("VmHWM:"))
                .Select(l => double.Parse(l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024)
                .Single();
            output.WriteLine(
                $"4 concurrent 24 MP uploads ({ok.Count} restored): server peak resident memory {peakMb:0} MB");
            Assert.True(peakMb < 3 * 1024,
                $"server peak resident memory {peakMb:0} MB (bound 3 GB with the default --max-memory 2GB)");
            Assert.False(server.HasExited);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }
}
