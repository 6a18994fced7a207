using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using MemoryNet.Cli.Serve;

namespace MemoryNet.Tests.Web;

/// <summary>The jobs API of `memorynet serve` against a real server: progress, result, cancellation, bounds. Alone
/// (the Console collection): a job's result is compared byte for byte with a direct restore, and tests running
/// beside it change libtorch's thread count (OpenMP's is process-wide), which changes a convolution's summation
/// order.</summary>
[Collection("Console")]
public sealed class ServeJobsTests
{
    // a memory budget small enough that the tiny test model restores the test images in tiles
    static ServeOptions Tiled(int maxJobs = 32) =>
        WebTestData.Options() with { MaxMemoryBytes = 360L << 20, MaxJobs = maxJobs };

    internal static MultipartFormDataContent Form(byte[] image)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "image", "photo.png");
        return form;
    }

    static MultipartFormDataContent FormWith(byte[] image, params (string Key, string Value)[] fields)
    {
        var form = Form(image);
        foreach (var (k, v) in fields) form.Add(new StringContent(v), k);
        return form;
    }

    internal static async Task<JsonElement> Json(HttpResponseMessage r) =>
        JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();

    static async Task<string> Create(HttpClient client, byte[] image)
    {
        var r = await client.PostAsync("/v1/jobs", Form(image));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var job = await Json(r);
        string id = job.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/jobs/{id}", r.Headers.Location?.OriginalString);
        Assert.Contains(job.GetProperty("state").GetString(), new[] { "queued", "running" });
        return id;
    }

    static (int Done, int Total, string State) Progress(JsonElement job) =>
        (job.GetProperty("progress").GetProperty("done").GetInt32(),
            job.GetProperty("progress").GetProperty("total").GetInt32(), job.GetProperty("state").GetString()!);

    [Fact]
    public async Task A_job_reports_increasing_tile_progress_and_its_result_equals_a_direct_restore()
    {
        await using var server = await RestoreServer.StartAsync(Tiled());
        using var client =
            new HttpClient { BaseAddress = new Uri(server.Address), Timeout = TimeSpan.FromSeconds(120) };
        var image = WebTestData.Png(480, 320, seed: 3);
        string id = await Create(client, image);

        var seen = new List<(int Done, int Total, string State)>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var p = Progress(await Json(await client.GetAsync($"/v1/jobs/{id}")));
            seen.Add(p);
            if (p.State is "done" or "failed" or "cancelled" || DateTime.UtcNow > deadline) break;
            await Task.Delay(20);
        }
        var last = seen[^1];
        Assert.Equal("done", last.State);
        Assert.True(last.Total > 1, $"the image was to be restored in tiles (total {last.Total})");
        Assert.Equal(last.Total, last.Done);
        for (int i = 1; i < seen.Count; i++) Assert.True(seen[i].Done >= seen[i - 1].Done, "progress never goes back");

        var result = await client.GetAsync($"/v1/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal("image/png", result.Content.Headers.ContentType?.MediaType);
        var png = await result.Content.ReadAsByteArrayAsync();
        var direct = await (await client.PostAsync("/v1/restore", Form(image))).Content.ReadAsByteArrayAsync();
        Assert.Equal(direct, png);
        Assert.Equal((480, 320), WebTestData.PngSize(png));

        // the format asked for travels with the job
        var webpJob = await client.PostAsync("/v1/jobs", FormWith(WebTestData.Png(48, 32), ("format", "webp")));
        string webpId = (await Json(webpJob)).GetProperty("id").GetString()!;
        HttpResponseMessage webp;
        do { await Task.Delay(20); webp = await client.GetAsync($"/v1/jobs/{webpId}/result"); }
        while (webp.StatusCode == HttpStatusCode.Conflict && DateTime.UtcNow < deadline);
        Assert.Equal("image/webp", webp.Content.Headers.ContentType?.MediaType);

        // so does the self-ensemble: the job says which, and its result is the direct restore's with it
        var small = WebTestData.Png(48, 32, seed: 4);
        var x8Job = await Json(await client.PostAsync("/v1/jobs", FormWith(small, ("ensemble", "x8"))));
        Assert.Equal("x8", x8Job.GetProperty("ensemble").GetString());
        string x8Id = x8Job.GetProperty("id").GetString()!;
        HttpResponseMessage x8;
        do { await Task.Delay(20); x8 = await client.GetAsync($"/v1/jobs/{x8Id}/result"); }
        while (x8.StatusCode == HttpStatusCode.Conflict && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, x8.StatusCode);
        var x8Direct = await client.PostAsync("/v1/restore", FormWith(small, ("ensemble", "x8")));
        Assert.Equal(await x8Direct.Content.ReadAsByteArrayAsync(), await x8.Content.ReadAsByteArrayAsync());
        Assert.Equal("none", (await Json(await client.GetAsync($"/v1/jobs/{webpId}"))).GetProperty("ensemble")
            .GetString());

        // a finished job is dropped by DELETE; then it is gone
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/jobs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/jobs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/jobs/{id}/result")).StatusCode);
    }

    [Fact]
    public async Task Shutting_down_waits_for_a_running_job_before_freeing_the_models()
    {
        var server = await RestoreServer.StartAsync(Tiled(maxJobs: 1));
        string id;
        using (var client = new HttpClient
                   { BaseAddress = new Uri(server.Address), Timeout = TimeSpan.FromSeconds(120) })
        {
            id = await Create(client, WebTestData.Png(1600, 1200, seed: 5)); // hundreds of tiles
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Progress(await Json(await client.GetAsync($"/v1/jobs/{id}"))).Done == 0
                   && DateTime.UtcNow < deadline)
                await Task.Delay(20);
        }
        var job = server.Jobs.Get(id)!;
        Assert.Equal(JobState.Running, job.State);
        await server.DisposeAsync(); // with the job mid-restore: its model must outlive its forward pass
        Assert.Equal(JobState.Cancelled, job.State);
    }

    [Fact]
    public async Task Delete_cancels_a_running_job_after_the_current_tile_and_the_slot_is_free_again()
    {
        await using var server = await RestoreServer.StartAsync(Tiled(maxJobs: 1));
        using var client =
            new HttpClient { BaseAddress = new Uri(server.Address), Timeout = TimeSpan.FromSeconds(120) };
        string id = await Create(client, WebTestData.Png(1600, 1200, seed: 4)); // hundreds of tiles

        (int Done, int Total, string State) p;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(20);
            p = Progress(await Json(await client.GetAsync($"/v1/jobs/{id}")));
        } while (p.Done == 0 && DateTime.UtcNow < deadline);
        Assert.Equal("running", p.State);
        Assert.True(p.Total > 10, $"expected many tiles, got {p.Total}");

        // the store keeps one job and it has not finished: a second one is refused
        var refused = await client.PostAsync("/v1/jobs", Form(WebTestData.Png(64, 48)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);

        Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync($"/v1/jobs/{id}")).StatusCode);
        do
        {
            await Task.Delay(20);
            p = Progress(await Json(await client.GetAsync($"/v1/jobs/{id}")));
        } while (p.State == "running" && DateTime.UtcNow < deadline.AddSeconds(30));
        Assert.Equal("cancelled", p.State);
        Assert.True(p.Done < p.Total, $"stopped at {p.Done} of {p.Total} tiles");
        Assert.Equal(HttpStatusCode.Conflict, (await client.GetAsync($"/v1/jobs/{id}/result")).StatusCode);
        Assert.Equal(0, server.Queue.InSystem);

        // the cancelled job is finished: a new job evicts it and runs
        string next = await Create(client, WebTestData.Png(64, 48));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/jobs/{id}")).StatusCode);
        Assert.NotEqual(id, next);
    }

    [Fact]
    public async Task Job_paths_answer_404_for_an_unknown_id_and_405_with_Allow_for_a_wrong_method()
    {
        await using var server = await RestoreServer.StartAsync(WebTestData.Options());
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/jobs/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/v1/jobs/nope")).StatusCode);
        var put = await client.PutAsync("/v1/jobs/nope", new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal(["GET", "DELETE"], put.Content.Headers.Allow);
        var post = await client.PostAsync("/v1/jobs/nope/result", new StringContent(""));
        Assert.Equal(["GET"], post.Content.Headers.Allow);
        var get = await client.GetAsync("/v1/jobs");
        Assert.Equal(["POST"], get.Content.Headers.Allow);
        // a bad upload is refused at creation, as /v1/restore refuses it
        var bad = await client.PostAsync("/v1/jobs", Form("not an image"u8.ToArray()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(0, server.Jobs.Count);
    }
}

/// <summary>--api-key and --log-format json against a real server (the log test captures Console.Error).</summary>
[Collection("Console")]
public sealed class ServeKeyAndLogTests
{
    const string Key = "0123456789abcdef-test-key";

    [Fact]
    public async Task With_an_api_key_the_API_needs_it_and_health_ready_and_the_page_do_not()
    {
        await using var server = await RestoreServer.StartAsync(WebTestData.Options() with { ApiKey = Key });
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        var refused = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("API key", (await Json(refused)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await Send(client, HttpMethod.Get, "/v1/models", "X-API-Key", Key + "x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await Send(client, HttpMethod.Get, "/v1/models", "X-API-Key", Key)).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await Send(client, HttpMethod.Get, "/v1/models", "Authorization", "Bearer " + Key)).StatusCode);
        var restore =
            new HttpRequestMessage(HttpMethod.Post, "/v1/restore") { Content = Form(WebTestData.Png(40, 32)) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(restore)).StatusCode);
        Assert.Throws<UserInputException>(() => (WebTestData.Options() with { ApiKey = "short" }).Validate());
    }

    [Fact]
    public async Task Json_logs_are_one_object_per_request_with_the_restore_facts()
    {
        var old = Console.Error;
        using var capture = new StringWriter();
        Console.SetError(capture);
        try
        {
            await using var server =
                await RestoreServer.StartAsync(WebTestData.Options() with { Log = true, LogFormat = "json" });
            using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
            var r = await client.PostAsync("/v1/restore", Form(WebTestData.Png(200, 100)));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.True(r.Headers.Contains("X-Request-Id"));
            await client.GetAsync("/v1/health");
        }
        finally { Console.SetError(old); }
        var objects = capture.ToString().Split('\n').Where(l => l.StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var restore = objects.Single(o => o.GetProperty("path").GetString() == "/v1/restore");
        Assert.Equal(200, restore.GetProperty("status").GetInt32());
        Assert.Equal("tiny", restore.GetProperty("model").GetString());
        Assert.Equal(0.02, restore.GetProperty("megapixels").GetDouble(), 6);
        Assert.True(restore.GetProperty("restore_seconds").GetDouble() > 0);
        Assert.True(restore.GetProperty("queue_seconds").GetDouble() >= 0);
        Assert.False(string.IsNullOrEmpty(restore.GetProperty("id").GetString()));
        Assert.Contains(objects,
            o => o.GetProperty("path").GetString() == "/v1/health" && !o.TryGetProperty("model", out _));
    }

    static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string header,
        string value)
    {
        var m = new HttpRequestMessage(method, path);
        m.Headers.TryAddWithoutValidation(header, value);
        return client.SendAsync(m);
    }

    static Task<JsonElement> Json(HttpResponseMessage r) => ServeJobsTests.Json(r);

    static MultipartFormDataContent Form(byte[] image) => ServeJobsTests.Form(image);
}
