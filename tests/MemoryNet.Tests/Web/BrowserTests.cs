using System.Diagnostics;
using MemoryNet.Cli.Serve;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace MemoryNet.Tests.Web;

/// <summary>
/// The page end to end in Debian's chromium driven by Playwright (no browser download:
/// ExecutablePath=/usr/bin/chromium). Without chromium the test fails under CI (env CI set) and is skipped with a
/// message otherwise; .ci/chromium.sh installs it. MEMORYNET_SCREENSHOT=docs/web-page.png saves the page (relative
/// paths are from the repository root).
/// </summary>
public sealed class BrowserTests(ITestOutputHelper output)
{
    const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task Upload_on_the_page_shows_the_before_after_slider_and_a_download()
    {
        var chromium = Environment.GetEnvironmentVariable("MEMORYNET_CHROMIUM") is { Length: > 0 } c ? c : ChromiumPath;
        if (!File.Exists(chromium))
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
                Assert.Fail($"{chromium} is missing: the browser test needs Debian's chromium (run .ci/chromium.sh, " +
                    "i.e. apt-get install -y chromium)");
            output.WriteLine($"SKIPPED (not a failure outside CI): {chromium} is missing; install it with `apt-get " +
                "install -y chromium` to run the browser test");
            return;
        }
        var total = Stopwatch.StartNew();
        var dir = TestPaths.TempDir();
        var image = Path.Combine(dir, "rainy-hills.png");
        await File.WriteAllBytesAsync(image, WebTestData.Png(480, 320, seed: 7));

        // MEMORYNET_SCREENSHOT_MODELS: a models/ folder to show instead of the untrained test models (e.g. the bundled
        // one)
        var modelsFolder = Environment.GetEnvironmentVariable("MEMORYNET_SCREENSHOT_MODELS") is { Length: > 0 } m
            ? Path.GetFullPath(m, TestPaths.RepoRoot) : WebTestData.PreviewModelsFolder;
        // a memory budget that makes the server restore the photo in tiles: the page shows the job's tile progress
        await using var server = await RestoreServer.StartAsync(
            WebTestData.Options() with { ModelsFolder = modelsFolder, MaxMemoryBytes = 360L << 20 });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Timeout = 60_000,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
        output.WriteLine($"chromium {browser.Version} started after {total.Elapsed.TotalSeconds:0.0} s");
        var page = await browser.NewPageAsync(
            new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 900, Height = 820 } });
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        page.PageError += (_, e) => errors.Add(e);
        page.RequestFailed += (_, r) => errors.Add($"request failed: {r.Url}");
        page.Request += (_, r) =>
        {
            if (!r.Url.StartsWith(server.Address) && !r.Url.StartsWith("blob:") && !r.Url.StartsWith("data:"))
                errors.Add($"external request: {r.Url}");
        };

        await page.GotoAsync(server.Address + "/");
        // the model list comes from /v1/models: the --model file is preselected, derain is offered, the other tasks are
        // not installed
        await Assertions.Expect(page.Locator("#model option[value='model:tiny']")).ToHaveCountAsync(1);
        Assert.Equal("model:tiny", await page.Locator("#model").InputValueAsync());
        // the test models folder has derain only; a real models/ folder (screenshots) may have every task
        bool deblurInstalled = File.Exists(Path.Combine(modelsFolder, "deblur.safetensors"));
        Assert.Equal(!deblurInstalled, await page.Locator("#model option[value='task:deblur']").IsDisabledAsync());
        await page.Locator("#model").SelectOptionAsync("task:derain");
        await page.Locator("#ensemble").SelectOptionAsync("flips");

        await page.Locator("#file").SetInputFilesAsync(image); // choosing a file starts the restore
        await Assertions.Expect(page.Locator("#result")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#slider")).ToBeVisibleAsync();
        // restored as a job, tile by tile
        await Assertions.Expect(page.Locator("#summary")).ToContainTextAsync(" tiles");
        await Assertions.Expect(page.Locator("#summary")).ToContainTextAsync("self-ensemble flips");
        var afterSize = await page.Locator("#after").EvaluateAsync<int[]>("i => [i.naturalWidth, i.naturalHeight]");
        Assert.Equal(new[] { 480, 320 }, afterSize);
        var download = page.Locator("#download");
        Assert.Equal("rainy-hills-restored.png", await download.GetAttributeAsync("download"));
        Assert.StartsWith("blob:", await download.GetAttributeAsync("href"));

        // the slider moves the split between before and after
        await page.Locator("#slider").FillAsync("30");
        Assert.Equal("30%",
            await page.Locator("#compare").EvaluateAsync<string>("e => e.style.getPropertyValue('--pos')"));
        Assert.Contains("inset(0px 0px 0px 30%)",
            await page.Locator("#after").EvaluateAsync<string>("e => getComputedStyle(e).clipPath"));
        await page.Locator("#slider").FillAsync("50");

        // the download button delivers the PNG
        var downloaded = await page.RunAndWaitForDownloadAsync(() => download.ClickAsync());
        var saved = Path.Combine(dir, "downloaded.png");
        await downloaded.SaveAsAsync(saved);
        Assert.Equal((480, 320), WebTestData.PngSize(await File.ReadAllBytesAsync(saved)));

        // a bad file shows the server's message
        var text = Path.Combine(dir, "notes.txt");
        await File.WriteAllTextAsync(text, "not an image");
        await page.Locator("#file").SetInputFilesAsync(text);
        await Assertions.Expect(page.Locator("#error"))
            .ToContainTextAsync("notes.txt: not an image", new() { Timeout = 30_000 });
        await page.Locator("#file").SetInputFilesAsync(image);
        await Assertions.Expect(page.Locator("#error")).ToBeHiddenAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#status-row")).ToBeHiddenAsync(new() { Timeout = 60_000 });
        await page.Locator("#slider").FillAsync("50");

        Assert.DoesNotContain(errors, e => !e.Contains("400"));
        if (Environment.GetEnvironmentVariable("MEMORYNET_SCREENSHOT") is { Length: > 0 } shot)
        {
            string path = Path.IsPathRooted(shot) ? shot : Path.Combine(TestPaths.RepoRoot, shot);
            await page.ScreenshotAsync(
                new PageScreenshotOptions { Path = path, FullPage = true, Type = ScreenshotType.Png });
            output.WriteLine($"screenshot: {path} ({new FileInfo(path).Length / 1024} KB)");
        }
        // a server with --api-key: the page asks for the key once, then lists the models and restores with it
        await using (var keyed =
            await RestoreServer.StartAsync(WebTestData.Options() with { ApiKey = "page-test-key-0123456789" }))
        {
            var keyPage = await browser.NewPageAsync();
            await keyPage.GotoAsync(keyed.Address + "/");
            await Assertions.Expect(keyPage.Locator("#key-row")).ToBeVisibleAsync();
            await Assertions.Expect(keyPage.Locator("#error")).ToContainTextAsync("API key");
            await keyPage.Locator("#key").FillAsync("page-test-key-0123456789");
            await keyPage.Locator("#key-use").ClickAsync();
            await Assertions.Expect(keyPage.Locator("#key-row")).ToBeHiddenAsync();
            await Assertions.Expect(keyPage.Locator("#model option[value='model:tiny']")).ToHaveCountAsync(1);
            await keyPage.Locator("#file").SetInputFilesAsync(image);
            await Assertions.Expect(keyPage.Locator("#result")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        }
        output.WriteLine($"browser test took {total.Elapsed.TotalSeconds:0.0} s");
    }
}
