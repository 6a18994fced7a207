using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MemoryNet.Cli.Serve;
using MemoryNet.Weights;

namespace MemoryNet.Tests.Web;

/// <summary>The HTTP API of `memorynet serve`, against a real Kestrel server on 127.0.0.1 with a free port.</summary>
public sealed class ServeApiTests(WebServerFixture fx) : IClassFixture<WebServerFixture>
{
    HttpClient Client => fx.Client;

    static MultipartFormDataContent Form(byte[] image, string fileName = "photo.png",
        params (string Key, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "image", fileName);
        foreach (var (k, v) in fields) form.Add(new StringContent(v), k);
        return form;
    }

    static async Task<string> ErrorOf(HttpResponseMessage r)
    {
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var message = doc.RootElement.GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }

    [Fact]
    public async Task The_OpenAPI_document_parses_and_describes_every_API_route()
    {
        var r = await Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.StartsWith("3.", doc.RootElement.GetProperty("openapi").GetString());
        var paths = doc.RootElement.GetProperty("paths");
        Assert.Equal(["/v1/health", "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/result", "/v1/models", "/v1/ready",
            "/v1/restore"],
            paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var createJob = paths.GetProperty("/v1/jobs").GetProperty("post");
        Assert.True(createJob.GetProperty("requestBody").GetProperty("content")
            .TryGetProperty("multipart/form-data", out _));
        Assert.True(createJob.GetProperty("responses").TryGetProperty("202", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}").TryGetProperty("delete", out _));
        var restore = paths.GetProperty("/v1/restore").GetProperty("post");
        Assert.True(restore.GetProperty("requestBody").GetProperty("content")
            .TryGetProperty("multipart/form-data", out _));
        Assert.True(restore.GetProperty("responses").GetProperty("200").GetProperty("content")
            .TryGetProperty("image/png", out _));
        foreach (var code in new[] { "400", "413", "415", "503" })
            Assert.True(restore.GetProperty("responses").TryGetProperty(code, out _), code);
        Assert.Contains("'image'", restore.GetProperty("description").GetString());
        var formFields = restore.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data")
            .GetProperty("schema").GetProperty("properties");
        Assert.Equal(["none", "flips", "x8"],
            formFields.GetProperty("ensemble").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        Assert.True(paths.GetProperty("/v1/health").TryGetProperty("get", out _));
    }

    [Fact]
    public async Task Ready_names_the_models_and_which_are_loaded()
    {
        var r = await Client.GetAsync("/v1/ready");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.True(doc.RootElement.GetProperty("ready").GetBoolean());
        var models = doc.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.Contains("derain", models);
        Assert.All(doc.RootElement.GetProperty("loaded").EnumerateArray(), l => Assert.Contains(l.GetString(), models));
    }

    [Fact]
    public async Task A_known_path_with_another_method_is_405_with_Allow()
    {
        var r = await Client.GetAsync("/v1/restore");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
        Assert.Equal(["POST"], r.Content.Headers.Allow);
        Assert.Contains("not allowed", await ErrorOf(r));
        var d = await Client.DeleteAsync("/v1/models");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, d.StatusCode);
        Assert.Equal(["GET"], d.Content.Headers.Allow);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/v1/nothing")).StatusCode);
    }

    [Fact]
    public async Task Health_answers_ok()
    {
        var r = await Client.GetAsync("/v1/health");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":"ok"}""", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Models_lists_the_loaded_file_and_the_bundled_models_with_tasks()
    {
        using var doc = JsonDocument.Parse(await Client.GetStringAsync("/v1/models"));
        var models = doc.RootElement.GetProperty("models").EnumerateArray().ToList();
        var tiny = models.Single(m => m.GetProperty("name").GetString() == "tiny");
        Assert.Equal("file", tiny.GetProperty("source").GetString());
        Assert.Equal("custom", tiny.GetProperty("arch").GetString());
        Assert.True(tiny.GetProperty("default").GetBoolean());
        Assert.True(tiny.GetProperty("loaded").GetBoolean());
        var derain = models.Single(m => m.GetProperty("name").GetString() == "derain");
        Assert.Equal("bundled", derain.GetProperty("source").GetString());
        Assert.Equal("derain", derain.GetProperty("task").GetString());
        Assert.Equal("custom", derain.GetProperty("arch").GetString());
        Assert.Equal(JsonValueKind.Null, derain.GetProperty("tlc").ValueKind);   // global means: no default patch
        var tasks = doc.RootElement.GetProperty("tasks").EnumerateArray()
            .ToDictionary(t => t.GetProperty("task").GetString()!, t => t.GetProperty("available").GetBoolean());
        Assert.Equal(new Dictionary<string, bool>
        {
            ["derain"] = true, ["deraindrop"] = false, ["deshadow"] = false, ["deblur"] = false
        }, tasks);
        Assert.Equal("tiny", doc.RootElement.GetProperty("default").GetString());
    }

    [Fact]
    public void The_catalog_offers_a_model_s_tlc_default_and_skips_a_file_whose_default_is_malformed()
    {
        var dir = TestPaths.TempDir();
        using (var model = new MemoryNet.Architectures.Mpr.MemoryNetModel(
                   new MemoryNet.Architectures.Mpr.ArchSpec("custom", 4, 2, 2, 1, 3)))
        {
            ModelFile.Save(model, Path.Combine(dir, "deblur.safetensors"),
                new Dictionary<string, string> { ["task"] = "deblur", ["tlc"] = "8" });
            ModelFile.Save(model, Path.Combine(dir, "derain.safetensors"),
                new Dictionary<string, string> { ["task"] = "derain", ["tlc"] = "wide" });
        }
        using var catalog = new ModelCatalog(null, null, dir);
        var entry = Assert.Single(catalog.Entries);
        Assert.Equal(("deblur", 8), (entry.Name, entry.Tlc));
    }

    [Theory]
    [InlineData(37, 29, 3, null)]
    [InlineData(64, 48, 4, "derain")]
    [InlineData(20, 16, 1, null)]
    public async Task Restore_returns_a_png_of_the_same_size(int w, int h, int channels, string? task)
    {
        var fields = task is null ? [] : new[] { ("task", task) };
        var r = await Client.PostAsync("/v1/restore", Form(WebTestData.Png(w, h, channels), "rainy photo.png", fields));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("image/png", r.Content.Headers.ContentType?.MediaType);
        var png = await r.Content.ReadAsByteArrayAsync();
        Assert.Equal((w, h), WebTestData.PngSize(png));
        Assert.Equal(task ?? "tiny", r.Headers.GetValues("X-MemoryNet-Model").Single());
    }

    [Fact]
    public async Task Restore_by_model_name_with_16_bits()
    {
        var r = await Client.PostAsync("/v1/restore",
            Form(WebTestData.Png(24, 24), "a.png", ("model", "derain"), ("bits", "16")));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var png = await r.Content.ReadAsByteArrayAsync();
        Assert.Equal(16, png[24]); // IHDR bit depth
    }

    [Theory]
    [InlineData("jpg", "90", "image/jpeg", ".jpg")]
    [InlineData("webp", "80", "image/webp", ".webp")]
    [InlineData("png", null, "image/png", ".png")]
    public async Task The_answer_comes_in_the_format_asked_for(string format, string? quality, string contentType,
        string extension)
    {
        var fields = new List<(string, string)> { ("format", format) };
        if (quality is not null) fields.Add(("quality", quality));
        var r = await Client.PostAsync("/v1/restore", Form(WebTestData.Png(40, 30), "rain.png", [.. fields]));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(contentType, r.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith($"rain-restored{extension}", r.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var image = MemoryNet.Imaging.ImageCodec.Decode(await r.Content.ReadAsByteArrayAsync(), "answer" + extension);
        Assert.Equal((40, 30), (image.Width, image.Height));
    }

    [Theory]
    [InlineData("x8")]
    [InlineData("flips")]
    public async Task The_self_ensemble_asked_for_is_the_library_s(string mode)
    {
        var image = WebTestData.Png(40, 32, seed: 5);
        async Task<MemoryNet.Imaging.ImageData> Restored(params (string, string)[] fields)
        {
            var r = await Client.PostAsync("/v1/restore", Form(image, "a.png", [("bits", "16"), .. fields]));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return MemoryNet.Imaging.ImageCodec.Decode(await r.Content.ReadAsByteArrayAsync(), "answer.png");
        }
        var single = await Restored();
        var ensembled = await Restored(("ensemble", mode));
        double MaxDiff(MemoryNet.Imaging.ImageData a, MemoryNet.Imaging.ImageData b) =>
            a.Pixels.Zip(b.Pixels, (x, y) => Math.Abs(x - y)).Max();
        // "none" is the single pass; two passes may differ by a 16-bit level where tests running beside this one
        // change libtorch's thread count (the order of a convolution's sums), never by an ensemble's 10+ levels
        Assert.True(MaxDiff(single, await Restored(("ensemble", "none"))) <= 1.5 / 65535);

        // the same image through the library's restorer with that ensemble, on the server's model file
        using var model = MemoryNet.Weights.ModelFile.Load(WebTestData.ModelFilePath);
        var restorer = new MemoryNet.Inference.Restorer(model)
            { Ensemble = MemoryNet.Inference.Restorer.ParseEnsemble(mode)!.Value };
        var expected = MemoryNet.Inference.ImageRestorer.Restore(restorer,
            MemoryNet.Imaging.ImageCodec.Decode(image, "a.png"), 16);
        Assert.True(MaxDiff(ensembled, expected) <= 1.5 / 65535, $"{MaxDiff(ensembled, expected)}");
        // an untrained network is not symmetric under flips: the ensemble changes the answer
        Assert.True(MaxDiff(ensembled, single) > 10.0 / 65535, $"{MaxDiff(ensembled, single)}");
    }

    [Fact]
    public async Task A_lower_quality_gives_a_smaller_jpeg()
    {
        async Task<long> Size(string q) =>
            (await (await Client.PostAsync("/v1/restore",
                Form(WebTestData.Png(160, 120), "a.png", ("format", "jpg"), ("quality", q))))
                .Content.ReadAsByteArrayAsync()).Length;
        Assert.True(await Size("30") < await Size("98"));
    }

    [Fact]
    public async Task A_text_file_gets_400_json()
    {
        var r = await Client.PostAsync("/v1/restore",
            Form(Encoding.UTF8.GetBytes("hello, this is not an image\n"), "notes.txt"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("notes.txt: not an image", await ErrorOf(r));
        r = await Client.PostAsync("/v1/restore", Form("hi"u8.ToArray(), "short.txt"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("short.txt: not an image", await ErrorOf(r));
    }

    [Theory]
    [InlineData("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "anim.gif", "GIF")]
    [InlineData("II*\0\x08\0\0\0\0\0\0\0", "scan.tif", "TIFF")]
    public async Task Unsupported_image_formats_get_415_json(string header, string name, string format)
    {
        var r = await Client.PostAsync("/v1/restore", Form(Encoding.Latin1.GetBytes(header), name));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        var message = await ErrorOf(r);
        Assert.Contains(format, message);
        Assert.Contains(name, message);
    }

    [Theory]
    [InlineData("task", "deblur", "models/deblur.safetensors is not installed")]
    [InlineData("task", "dehaze", "unknown task 'dehaze'")]
    [InlineData("model", "../../etc/passwd", "unknown model")]
    [InlineData("bits", "12", "'bits' must be 8 or 16")]
    [InlineData("tile", "256", "unknown field 'tile'")]
    [InlineData("format", "gif", "'format' must be png, jpg or webp")]
    [InlineData("quality", "0", "'quality' must be 1-100")]
    [InlineData("ensemble", "x4", "'ensemble' must be none, flips or x8 (got 'x4')")]
    public async Task Bad_fields_get_400_json(string key, string value, string expected)
    {
        var r = await Client.PostAsync("/v1/restore", Form(WebTestData.Png(16, 16), "a.png", (key, value)));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains(expected, await ErrorOf(r));
    }

    [Fact]
    public async Task Missing_image_and_non_multipart_get_400_json()
    {
        var noImage = new MultipartFormDataContent { { new StringContent("derain"), "task" } };
        var r = await Client.PostAsync("/v1/restore", noImage);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("'image'", await ErrorOf(r));

        r = await Client.PostAsync("/v1/restore",
            new ByteArrayContent(WebTestData.Png(8, 8)) { Headers = { ContentType = new("image/png") } });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("multipart/form-data", await ErrorOf(r));
    }

    [Fact]
    public async Task An_80_MB_upload_gets_413_before_the_body_is_read()
    {
        var watch = Stopwatch.StartNew();
        var form = new MultipartFormDataContent();
        form.Add(new StreamContent(new ZeroStream(80L * 1024 * 1024)), "image", "huge.png");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/restore") { Content = form };
        // as curl does for large bodies: the server answers before the body is sent
        request.Headers.ExpectContinue = true;
        var r = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Contains("exceeds the limit of 50 MB", await ErrorOf(r));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task An_80_MB_upload_without_expect_continue_gets_413()
    {
        var form = new MultipartFormDataContent();
        form.Add(new StreamContent(new ZeroStream(80L * 1024 * 1024)), "image", "huge.png");
        var r = await Client.PostAsync("/v1/restore", form);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        await ErrorOf(r);
    }

    [Fact]
    public async Task A_chunked_upload_over_the_limit_gets_413_while_reading()
    {
        var form = new MultipartFormDataContent();
        form.Add(new StreamContent(new ZeroStream(80L * 1024 * 1024, knownLength: false)), "image", "huge.png");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/restore") { Content = form };
        request.Headers.TransferEncodingChunked = true;
        HttpResponseMessage r;
        try { r = await Client.SendAsync(request); }
        catch (HttpRequestException e)
        {
            // the server may close the connection before the client reads the 413; that is a refusal too
            Assert.Fail($"the server reset the connection instead of answering 413: {e.Message}");
            return;
        }
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        await ErrorOf(r);
    }

    [Fact]
    public async Task Eight_concurrent_restores_succeed_and_health_answers_while_they_wait_for_the_model()
    {
        // The test holds every run slot, so the restores are admitted but cannot reach the model; a health check
        // that queued behind them would never answer. No wall-clock bound: the timeout below only turns a hang
        // into a failure.
        var queue = fx.Server.Queue;
        var holders = new List<(AdmissionQueue.Ticket Ticket, IDisposable Slot)>();
        for (int i = 0; i < queue.Concurrency; i++)
        {
            var t = queue.TryEnter()!;
            holders.Add((t, await t.RunSlotAsync(CancellationToken.None)));
        }
        var image = WebTestData.Png(160, 120);
        var restores = Enumerable.Range(0, 8).Select(async i =>
        {
            var r = await Client.PostAsync("/v1/restore",
                Form(image, $"p{i}.png", i % 2 == 0 ? [] : [("task", "derain")]));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal((160, 120), WebTestData.PngSize(await r.Content.ReadAsByteArrayAsync()));
        }).ToList();
        var all = Task.WhenAll(restores);
        try
        {
            var admitted = Stopwatch.StartNew();
            while (queue.InSystem < holders.Count + 8 && !all.IsCompleted
                && admitted.Elapsed < TimeSpan.FromSeconds(60))
                await Task.Delay(10);
            Assert.Equal(holders.Count + 8, queue.InSystem);
            for (int i = 0; i < 3; i++)
            {
                var h = await Client.GetAsync("/v1/health").WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(HttpStatusCode.OK, h.StatusCode);
            }
            Assert.False(all.IsCompleted, "a restore finished while the test held every run slot");
        }
        finally
        {
            foreach (var (t, slot) in holders) { slot.Dispose(); t.Dispose(); }
        }
        await all;
    }

    [Fact]
    public async Task The_page_is_served_with_a_file_input_and_no_external_resources()
    {
        var r = await Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
        var html = await r.Content.ReadAsStringAsync();
        Assert.Contains("<input id=\"file\" type=\"file\"", html);
        foreach (var asset in new[] { "/app.js", "/app.css" })
        {
            var a = await Client.GetAsync(asset);
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            html += await a.Content.ReadAsStringAsync();
        }
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("//cdn", html);
    }

    [Fact]
    public async Task Unknown_paths_get_404_json()
    {
        var r = await Client.GetAsync("/v1/nope");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        await ErrorOf(r);
    }
}

/// <summary>Servers with their own settings (queue, pixel limit, no models).</summary>
public sealed class ServeLimitTests
{
    [Fact]
    public async Task Cors_allows_the_configured_origin_only()
    {
        await using var server =
            await RestoreServer.StartAsync(WebTestData.Options() with { CorsOrigins = ["https://photos.example.org"] });
        using var http = new HttpClient { BaseAddress = new Uri(server.Address) };
        HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, "/v1/restore")
        {
            Headers = { { "Origin", origin }, { "Access-Control-Request-Method", "POST" },
                { "Access-Control-Request-Headers", "content-type" } },
        };
        var ok = await http.SendAsync(Preflight("https://photos.example.org"));
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        Assert.Equal("https://photos.example.org", ok.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", ok.Headers.GetValues("Access-Control-Allow-Methods").Single());
        var other = await http.SendAsync(Preflight("https://elsewhere.example.com"));
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
        var get = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/models")
        {
            Headers = { { "Origin", "https://photos.example.org" } }
        });
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("https://photos.example.org", get.Headers.GetValues("Access-Control-Allow-Origin").Single());

        var e = await Assert.ThrowsAsync<UserInputException>(
            () => RestoreServer.StartAsync(WebTestData.Options() with { CorsOrigins = ["photos.example.org/page"] }));
        Assert.Contains("--cors-origin", e.Message);
    }

    [Fact]
    public async Task A_full_queue_gets_503_with_retry_after()
    {
        await using var server = await RestoreServer.StartAsync(WebTestData.Options(concurrency: 1, queue: 1));
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        var form = () =>
        {
            var f = new MultipartFormDataContent();
            f.Add(new ByteArrayContent(WebTestData.Png(16, 16)), "image", "a.png");
            return f;
        };

        // one request running and one waiting: hold both places, as two slow restores would
        using (var running = server.Queue.TryEnter())
        using (var waiting = server.Queue.TryEnter())
        {
            Assert.NotNull(running); Assert.NotNull(waiting);
            var r = await client.PostAsync("/v1/restore", form());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {r.Headers.RetryAfter}");
            Assert.Contains("busy", await r.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/health")).StatusCode);
        }
        var ok = await client.PostAsync("/v1/restore", form());
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // the handler frees its place when it returns, which can be just after the client has the response
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (server.Queue.InSystem != 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(0, server.Queue.InSystem);
    }

    [Fact]
    public async Task A_request_waits_while_the_run_slot_is_taken_and_then_completes()
    {
        await using var server = await RestoreServer.StartAsync(WebTestData.Options(concurrency: 1, queue: 1));
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        var f = new MultipartFormDataContent(); f.Add(new ByteArrayContent(WebTestData.Png(16, 16)), "image", "a.png");
        var holder = server.Queue.TryEnter()!;
        var slot = await holder.RunSlotAsync(CancellationToken.None); // a restore "running"
        var pending = client.PostAsync("/v1/restore", f);
        var deadline = Stopwatch.StartNew();
        while (server.Queue.InSystem < 2 && !pending.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(20);
        Assert.Equal(2, server.Queue.InSystem); // the request arrived and waits
        await Task.Delay(200);
        Assert.False(pending.IsCompleted, "the request should wait for the run slot");
        var busy = new MultipartFormDataContent();
        busy.Add(new ByteArrayContent(WebTestData.Png(16, 16)), "image", "b.png");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostAsync("/v1/restore", busy)).StatusCode);
        slot.Dispose(); holder.Dispose();
        Assert.Equal(HttpStatusCode.OK, (await pending).StatusCode);
    }

    [Fact]
    public async Task Parallel_restores_with_concurrency_3_give_the_same_result_as_one_at_a_time()
    {
        await using var server = await RestoreServer.StartAsync(WebTestData.Options(concurrency: 3, queue: 8));
        using var client =
            new HttpClient { BaseAddress = new Uri(server.Address), Timeout = TimeSpan.FromSeconds(120) };
        var image = WebTestData.Png(96, 64, seed: 3);
        async Task<byte[]> One()
        {
            var f = new MultipartFormDataContent(); f.Add(new ByteArrayContent(image), "image", "a.png");
            var r = await client.PostAsync("/v1/restore", f);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return await r.Content.ReadAsByteArrayAsync();
        }
        var reference = await One();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => One()));
        Assert.All(results, r => Assert.Equal(reference, r));
    }

    [Fact]
    public async Task Over_the_pixel_limit_gets_413()
    {
        await using var server = await RestoreServer.StartAsync(WebTestData.Options() with { MaxPixels = 1000 });
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        var f = new MultipartFormDataContent();
        f.Add(new ByteArrayContent(WebTestData.Png(40, 30)), "image", "big.png");
        var r = await client.PostAsync("/v1/restore", f);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Contains("exceeds the limit", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_models_health_works_and_restore_explains()
    {
        await using var server =
            await RestoreServer.StartAsync(new ServeOptions { Urls = "http://127.0.0.1:0", ModelsFolder = null });
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/health")).StatusCode);
        var ready = await client.GetAsync("/v1/ready"); // alive, but not ready to restore
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("\"ready\":false", await ready.Content.ReadAsStringAsync());
        var f = new MultipartFormDataContent(); f.Add(new ByteArrayContent(WebTestData.Png(16, 16)), "image", "a.png");
        f.Add(new StringContent("derain"), "task");
        var r = await client.PostAsync("/v1/restore", f);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("derain.safetensors is not installed", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_missing_model_file_fails_at_start()
    {
        var e = await Assert.ThrowsAsync<UserInputException>(
            () => RestoreServer.StartAsync(WebTestData.Options() with { ModelPath = "/nonexistent/x.safetensors" }));
        Assert.Contains("x.safetensors", e.Message);
    }
}

public sealed class AdmissionQueueTests
{
    [Fact]
    public async Task Admits_concurrency_plus_queue_then_refuses_and_recovers()
    {
        using var q = new AdmissionQueue(concurrency: 2, queue: 1);
        var t = Enumerable.Range(0, 3).Select(_ => q.TryEnter()).ToList();
        Assert.All(t, Assert.NotNull);
        Assert.Null(q.TryEnter());
        var a = await t[0]!.RunSlotAsync(default);
        var b = await t[1]!.RunSlotAsync(default);
        var c = t[2]!.RunSlotAsync(default);
        Assert.False(c.IsCompleted);
        Assert.Equal(2, q.Running);
        a.Dispose(); a.Dispose(); // twice is harmless
        (await c).Dispose();
        b.Dispose();
        foreach (var x in t) { x!.Dispose(); x.Dispose(); }
        Assert.Equal(0, q.InSystem);
        Assert.Equal(0, q.Running);
        Assert.NotNull(q.TryEnter());
    }

    [Fact]
    public void Retry_after_follows_the_work_queued_not_the_number_of_requests()
    {
        using var q = new AdmissionQueue(concurrency: 2, queue: 2);
        var x8 = q.TryEnter()!; var small = q.TryEnter()!; var uploading = q.TryEnter()!;
        x8.Work = 8 * 24.0;   // an 8-pass self-ensemble of a 24-megapixel photo
        small.Work = 1;
        small.Work = 50;      // set once: a second value is ignored
        Assert.Equal(1, small.Work);
        Assert.Equal(192 + 1 + 0.5, q.WorkAhead(unknown: 0.5), 9);
        // 193.5 units at 0.5 s each, shared by two run slots: 48.4 s
        Assert.Equal(49, q.RetryAfterSeconds(secondsPerWork: 0.5, unknownWork: 0.5));
        Assert.Equal(120, q.RetryAfterSeconds(secondsPerWork: 5, unknownWork: 0.5));   // capped at two minutes
        x8.Dispose(); x8.Dispose();
        Assert.Equal(1.5, q.WorkAhead(unknown: 0.5), 9);
        Assert.Equal(1, q.RetryAfterSeconds(secondsPerWork: 0.5, unknownWork: 0.5));   // at least one second
        small.Dispose(); uploading.Dispose();
        Assert.Equal(0, q.WorkAhead(unknown: 0.5));
        uploading.Work = 7;   // after its end a request adds nothing
        Assert.Equal(0, q.WorkAhead(unknown: 0.5));
    }
}

/// <summary>A stream of zeros of a given length, so that large uploads need no large buffers.</summary>
sealed class ZeroStream(long length, bool knownLength = true) : Stream
{
    long _position;
    public override bool CanRead => true;
    public override bool CanSeek => knownLength;
    public override bool CanWrite => false;
    public override long Length => knownLength ? length : throw new NotSupportedException();
    public override long Position { get => _position; set => _position = value; }
    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = (int)Math.Min(count, length - _position);
        Array.Clear(buffer, offset, n);
        _position += n;
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset,
    };
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
