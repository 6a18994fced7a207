using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using System.Text.Json;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;
using MemoryNet.Data;
using MemoryNet.Imaging;
using MemoryNet.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemoryNet.Cli.Serve;

/// <summary>
/// The HTTP service behind <c>memorynet serve</c>: the page at /, GET /v1/health, GET /v1/ready, GET /v1/models,
/// POST /v1/restore (the restored image in the answer) and the jobs API (POST /v1/jobs, then GET /v1/jobs/{id} for the
/// progress and GET /v1/jobs/{id}/result for the image; DELETE cancels or drops).
/// Start it with <see cref="StartAsync"/> (port 0 picks a free port; <see cref="Address"/> tells which).
/// </summary>
public sealed class RestoreServer : IAsyncDisposable
{
    static readonly string[] FormFields = ["image", "task", "model", "bits", "format", "quality", "ensemble"];

    /// <summary>Output formats: the form's 'format' value → (file extension, content type).</summary>
    static readonly Dictionary<string, (string Extension, string ContentType)> Formats =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["png"] = (".png", "image/png"), ["jpg"] = (".jpg", "image/jpeg"), ["jpeg"] = (".jpg", "image/jpeg"),
            ["webp"] = (".webp", "image/webp"),
        };
    // readable messages ('quotes' stay quotes); the JSON is served with nosniff and never embedded in HTML
    static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly WebApplication _app;
    readonly ServeOptions _options;
    // running averages for Retry-After: seconds per unit of work (model passes × megapixels) and work per request
    double _secondsPerWork = 2, _workPerRequest = 1;
    /// <summary>Jobs whose restore is under way: shutting down waits for them before the models are freed.</summary>
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _runningJobs = new();

    public string Address { get; }
    public AdmissionQueue Queue { get; }
    public ModelCatalog Models { get; }
    public JobStore Jobs { get; }

    RestoreServer(WebApplication app, ServeOptions options, AdmissionQueue queue, ModelCatalog models, JobStore jobs,
        string address)
    {
        _app = app; _options = options; Queue = queue; Models = models; Jobs = jobs; Address = address;
    }

    /// <summary>Loads the --model file (if any), binds, and starts serving; throws UserInputException for bad
    /// options.</summary>
    public static async Task<RestoreServer> StartAsync(ServeOptions options, bool handleSignals = false,
        CancellationToken cancel = default)
    {
        options.Validate();
        var models = new ModelCatalog(options.ModelPath, options.Arch, options.ModelsFolder);
        var queue = new AdmissionQueue(options.Concurrency, options.Queue);
        var jobs = new JobStore(options.MaxJobs, options.MaxJobBytes, options.JobTtl);
        try
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
            {
                Args = [],
                ContentRootPath = AppContext.BaseDirectory,
                EnvironmentName = Environments.Production,
            });
            builder.Logging.ClearProviders();
            if (options.Log)
                builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
            if (handleSignals) builder.Host.UseConsoleLifetime(o => o.SuppressStatusMessages = true);
            else builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
            builder.WebHost.UseUrls(
                options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            });
            if (options.CorsOrigins.Count > 0)
                builder.Services.AddCors(c => c.AddDefaultPolicy(p => p.WithOrigins([.. options.CorsOrigins])
                    .WithMethods("GET", "POST", "DELETE").AllowAnyHeader()
                    .WithExposedHeaders("X-MemoryNet-Model", "Retry-After", "Content-Disposition", "X-Request-Id",
                        "Location")));
            builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
            {
                doc.Info = new()
                {
                    Title = "MemoryNet restoration service", Version = "v1",
                    Description = "Remove rain, raindrops, shadows and blur from photos (docs/web.md)."
                };
                return Task.CompletedTask;
            }));
            var app = builder.Build();
            RestoreServer? server = null;
            app.Use(async (ctx, next) =>
            {
                var watch = Stopwatch.StartNew();
                ctx.Response.Headers["X-Request-Id"] = ctx.TraceIdentifier;
                try
                {
                    if (options.ApiKey is { } key && NeedsKey(ctx.Request) && !HasKey(ctx.Request, key))
                    {
                        ctx.Response.Headers.WWWAuthenticate = "Bearer";
                        await Error(ctx, 401,
                            "this server needs an API key: send it in the X-API-Key header (or " +
                            "Authorization: Bearer KEY)");
                        return;
                    }
                    await next(ctx);
                }
                catch (Exception e) when (!ctx.RequestAborted.IsCancellationRequested && !ctx.Response.HasStarted)
                {
                    Console.Error.WriteLine($"error: {ctx.Request.Method} {ctx.Request.Path}: {e}");
                    await Error(ctx, 500, $"internal error: {e.Message}");
                }
                finally
                {
                    if (options.Log) Console.Error.WriteLine(RequestLog.Line(ctx, options.LogFormat, watch.Elapsed));
                }
            });
            if (options.CorsOrigins.Count > 0) app.UseCors(); // browser pages of those origins may call the API
            // Delegate handlers (not RequestDelegate) so that the OpenAPI document gets their descriptions; passed
            // through Handler because the SDK's route-handler analyzer throws on a lambda cast to Delegate (AD0001)
            app.MapGet("/v1/health",
                Handler((HttpContext ctx) => WriteJson(ctx, 200, new JsonObject { ["status"] = "ok" })))
                .WithName("health").WithSummary("Liveness: {\"status\": \"ok\"} while the server runs")
                .Produces(200, contentType: "application/json");
            app.MapGet("/v1/ready", Handler((HttpContext ctx) => server!.ReadyJson(ctx)))
                .WithName("ready")
                .WithSummary("Readiness: 200 when the server has a model to restore with (and which are loaded in " +
                    "memory), 503 when it has none")
                .Produces(200, contentType: "application/json").Produces(503, contentType: "application/json");
            app.MapGet("/v1/models", Handler((HttpContext ctx) => server!.ModelsJson(ctx)))
                .WithName("models")
                .WithSummary("The models this server restores with: name, task, architecture, source, whether loaded")
                .Produces(200, contentType: "application/json");
            app.MapPost("/v1/restore", Handler((HttpContext ctx) => server!.RestoreAsync(ctx)))
                .WithName("restore")
                .WithSummary("Restore one image")
                .WithDescription("multipart/form-data with the file field 'image' (PNG, JPEG, BMP, WebP) and " +
                    "optional fields 'task' " +
                    "(" + RestorationTasks.List +
                    "), 'model' (a name from GET /v1/models), 'format' (png, jpg or webp; default png), " +
                    "'quality' (1-100 for jpg and webp; default 95), 'bits' (8 or 16, png only) and 'ensemble' " +
                    "(none, flips or x8: the test-time self-ensemble, 4 or 8 passes averaged; default none). The " +
                    "answer is the restored image. Large images are restored in tiles under the server's " +
                    "--max-memory. Errors " +
                    "are JSON {\"error\": \"...\"}: " +
                    "400 a bad request, 413 over --max-upload-mb or --max-pixels, 415 an unsupported format, 503 the " +
                    "queue is full (Retry-After).")
                .AddOpenApiOperationTransformer(
                    (op, _, _) => { OpenApiDocs.DescribeRestore(op); return Task.CompletedTask; })
                .Produces(400, contentType: "application/json").Produces(413, contentType: "application/json")
                .Produces(415, contentType: "application/json").Produces(503, contentType: "application/json");
            app.MapPost("/v1/jobs", Handler((HttpContext ctx) => server!.CreateJobAsync(ctx)))
                .WithName("createJob")
                .WithSummary("Start restoring one image in the background")
                .WithDescription("The same form as POST /v1/restore. The answer is 202 with the job (as GET " +
                    "/v1/jobs/{id}) and its " +
                    "Location; the same errors as /v1/restore, and 503 when the server keeps --max-jobs jobs " +
                    "and none has finished.")
                .AddOpenApiOperationTransformer(
                    (op, _, _) => { OpenApiDocs.DescribeRestore(op, jobs: true); return Task.CompletedTask; })
                .Produces(202, contentType: "application/json").Produces(400, contentType: "application/json")
                .Produces(413, contentType: "application/json").Produces(415, contentType: "application/json")
                .Produces(503, contentType: "application/json");
            app.MapGet("/v1/jobs/{id}", Handler((HttpContext ctx, string id) => server!.JobStatus(ctx, id)))
                .WithName("job")
                .WithSummary("A job's state (queued, running, done, failed, cancelled), progress (tiles done of the " +
                    "total), timings, and when done the result's path")
                .Produces(200, contentType: "application/json").Produces(404, contentType: "application/json");
            app.MapGet("/v1/jobs/{id}/result",
                Handler((HttpContext ctx, string id) => server!.JobResultAsync(ctx, id)))
                .WithName("jobResult")
                .WithSummary(
                    "The restored image of a finished job; 409 while it runs or when it failed or was cancelled")
                .Produces(200, contentType: "image/png").Produces(404, contentType: "application/json")
                .Produces(409, contentType: "application/json");
            app.MapDelete("/v1/jobs/{id}", Handler((HttpContext ctx, string id) => server!.DeleteJob(ctx, id)))
                .WithName("deleteJob")
                .WithSummary("Cancels a job that has not finished (202: it stops after the tile it is on and frees " +
                    "its memory), or drops a finished one and its result (204)")
                .Produces(202, contentType: "application/json").Produces(204)
                .Produces(404, contentType: "application/json");
            app.MapOpenApi("/openapi/{documentName}.json");
            app.MapGet("/", (HttpContext ctx) => Page(ctx, "index.html", "text/html; charset=utf-8"))
                .ExcludeFromDescription();
            app.MapGet("/app.js", (HttpContext ctx) => Page(ctx, "app.js", "text/javascript; charset=utf-8"))
                .ExcludeFromDescription();
            app.MapGet("/app.css", (HttpContext ctx) => Page(ctx, "app.css", "text/css; charset=utf-8"))
                .ExcludeFromDescription();
            app.MapFallback((HttpContext ctx) =>
            {
                // a known path asked with another method: 405 with the methods it answers (RFC 9110 §15.5.6)
                if (AllowedMethods(ctx.Request.Path.Value ?? "") is { } allowed)
                {
                    ctx.Response.Headers.Allow = allowed;
                    return Error(ctx, 405,
                        $"{ctx.Request.Method} {ctx.Request.Path}: method not allowed (allowed: {allowed})");
                }
                return Error(ctx, 404,
                    $"no such endpoint: {ctx.Request.Method} {ctx.Request.Path} (see GET /v1/health, GET /v1/ready, " +
                    "GET /v1/models, POST /v1/restore, POST /v1/jobs, GET /openapi/v1.json)");
            }).ExcludeFromDescription();

            try { await app.StartAsync(cancel); }
            catch (IOException e)
                when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException
                    or System.Net.Sockets.SocketException)
            {
                // a port in use or not ours to take is the user's to fix: one line, exit 2
                throw new UserInputException($"--urls {options.Urls}: cannot listen there ({e.Message.TrimEnd('.')})");
            }
            var address = app.Services.GetRequiredService<IServer>()
                .Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? options.Urls;
            server = new RestoreServer(app, options, queue, models, jobs, address);
            return server;
        }
        catch
        {
            jobs.Dispose();
            models.Dispose();
            queue.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the host stops (Ctrl+C / SIGTERM when started with handleSignals).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Jobs.Dispose(); // cancels the jobs: each stops after the tile it is on
        // a job still in a forward pass uses its model's native tensors: free the models only after the jobs let go
        try { await Task.WhenAll(_runningJobs.Values).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false); }
        catch (TimeoutException) { Console.Error.WriteLine("warning: a job did not stop within 60 s of shutdown"); }
        Models.Dispose();
        Queue.Dispose();
    }

    /// <summary>For load balancers and orchestrators (a Kubernetes readinessProbe): ready when some model can
    /// restore.</summary>
    Task ReadyJson(HttpContext ctx)
    {
        bool ready = Models.Entries.Count > 0;
        return WriteJson(ctx, ready ? 200 : 503, new JsonObject
        {
            ["ready"] = ready,
            ["models"] = new JsonArray([.. Models.Entries.Select(e => (JsonNode)e.Name)]),
            ["loaded"] = new JsonArray([.. Models.Entries.Where(e => e.Loaded).Select(e => (JsonNode)e.Name)]),
            ["reason"] = ready ? null
                : "no models: start the server with --model FILE, or with the bundled models/ folder",
        });
    }

    Task ModelsJson(HttpContext ctx)
    {
        var list = new JsonArray();
        foreach (var e in Models.Entries)
            list.Add(new JsonObject
            {
                ["name"] = e.Name,
                ["task"] = e.Task,
                ["arch"] = e.Arch,
                ["source"] = e.Source,
                ["tlc"] = e.Tlc,
                ["loaded"] = e.Loaded,
                ["default"] = ReferenceEquals(e, Models.Default),
            });
        var tasks = new JsonArray();
        foreach (var t in RestorationTasks.Names)
        {
            var entry = Models.Entries.FirstOrDefault(e => e.Source == "bundled" && e.Task == t)
                ?? Models.Entries.FirstOrDefault(e => e.Task == t);
            tasks.Add(new JsonObject { ["task"] = t, ["available"] = entry is not null, ["model"] = entry?.Name });
        }
        return WriteJson(ctx, 200,
            new JsonObject { ["models"] = list, ["tasks"] = tasks, ["default"] = Models.Default?.Name });
    }

    /// <summary>A restore request that passed the checks: its model, the upload (header checked, not decoded), a
    /// display name, the bit depth, format and self-ensemble asked for.</summary>
    sealed record Upload(CatalogEntry Entry, byte[] Bytes, string Name, int? Bits, string Format, int Quality,
        SelfEnsemble Ensemble, double Megapixels)
    {
        /// <summary>What the restore costs, for Retry-After: model passes × megapixels (at least a twentieth of one:
        /// a small image still pays the network's fixed costs).</summary>
        public double Work => Restorer.Transforms(Ensemble).Count * Math.Max(Megapixels, 0.05);
        public string Extension => Formats[Format].Extension;
        public string ContentType => Formats[Format].ContentType;
    }

    /// <summary>
    /// Admits a restore request (a ticket of the admission queue, else 503) and reads and checks its form and image
    /// header. Null when the answer (an error) has been written; otherwise the caller owns the ticket.
    /// </summary>
    async Task<(AdmissionQueue.Ticket Ticket, Upload Upload)?> AdmitAsync(HttpContext ctx)
    {
        var cancel = ctx.RequestAborted;
        var request = ctx.Request;
        // Uploads over the limit get 413 before their body is read. A client that sent "Expect: 100-continue" (curl
        // does for large files) never sends the body; others are already sending it, so after the 413 the server reads
        // and discards up to DrainCap bytes, letting the client finish its send and read the answer instead of seeing a
        // reset connection.
        var sizeFeature = ctx.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (request.ContentLength is long declared && declared > _options.MaxRequestBytes)
        {
            await TooLarge(ctx, $"upload of {Mb(declared)} exceeds the limit of {Mb(_options.MaxUploadBytes)}",
                request.Body, canDrain: declared <= DrainCap);
            return null;
        }
        var body = request.Body;
        if (request.ContentLength is null && sizeFeature is { IsReadOnly: false })
        {
            // chunked: Kestrel's limit becomes the drain cap, the upload limit is counted here (so a 413 can still
            // drain)
            sizeFeature.MaxRequestBodySize = DrainCap;
            request.Body = new LimitedStream(body, _options.MaxRequestBytes);
        }
        if (!request.HasFormContentType
            || !(request.ContentType ?? "").StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            await Error(ctx, 400, "send multipart/form-data with the image in a field named 'image'");
            return null;
        }
        var ticket = Queue.TryEnter();
        if (ticket is null)
        {
            int seconds = Queue.RetryAfterSeconds(
                Volatile.Read(ref _secondsPerWork), Volatile.Read(ref _workPerRequest));
            ctx.Response.Headers.RetryAfter = seconds.ToString();
            await Error(ctx, 503,
                $"the server is busy ({Queue.InSystem} requests running or waiting); retry in {seconds} s");
            return null;
        }

        try
        {
            if (await ReadUploadAsync(ctx, body) is { } upload)
            {
                ticket.Work = upload.Work;
                return (ticket, upload);
            }
            ticket.Dispose();
            return null;
        }
        catch
        {
            ticket.Dispose();
            throw;
        }
    }

    /// <summary>The form and the image header of an admitted request; null when an error has been answered.</summary>
    async Task<Upload?> ReadUploadAsync(HttpContext ctx, Stream body)
    {
        var request = ctx.Request;
        var cancel = ctx.RequestAborted;
        IFormCollection form;
        try
        {
            ctx.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
            {
                MultipartBodyLengthLimit = _options.MaxRequestBytes,
                ValueCountLimit = 16,
                ValueLengthLimit = 256,
                MultipartHeadersLengthLimit = 16 * 1024,
            }));
            form = await request.ReadFormAsync(cancel);
        }
        catch (LimitedStream.TooLargeException)
        {
            await TooLarge(ctx, $"upload exceeds the limit of {Mb(_options.MaxUploadBytes)}", body, canDrain: true);
            return null;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            await TooLarge(ctx, $"upload exceeds the limit of {Mb(_options.MaxUploadBytes)}", body, canDrain: false);
            return null;
        }
        catch (InvalidDataException e)
            when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)
                && e.Message.Contains("length", StringComparison.OrdinalIgnoreCase))
        {
            await TooLarge(ctx, $"upload exceeds the limit of {Mb(_options.MaxUploadBytes)}", body, canDrain: true);
            return null;
        }
        catch (Exception e)
            when (e is InvalidDataException or BadHttpRequestException or IOException
                && !cancel.IsCancellationRequested)
        {
            await Error(ctx, 400, $"cannot read the form: {e.Message}");
            return null;
        }

        var unknown = form.Keys.Concat(form.Files.Select(f => f.Name)).Distinct().Where(k => !FormFields.Contains(k))
            .ToList();
        if (unknown.Count > 0)
        {
            await Error(ctx, 400,
                $"unknown field{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} " +
                $"(known: {string.Join(", ", FormFields)})");
            return null;
        }
        var file = form.Files.GetFile("image");
        if (file is null)
        {
            await Error(ctx, 400,
                form.ContainsKey("image") ? "'image' must be a file upload, not a text field"
                : "missing the 'image' file field");
            return null;
        }
        string name = SafeName(file.FileName);
        if (file.Length == 0) { await Error(ctx, 400, $"{name}: file is empty"); return null; }
        if (file.Length > _options.MaxUploadBytes)
        {
            await Error(ctx, 413,
                $"{name}: {Mb(file.Length)} exceeds the upload limit of {Mb(_options.MaxUploadBytes)}");
            return null;
        }
        int? bits = null;
        if (form.TryGetValue("bits", out var bitsText) && !string.IsNullOrWhiteSpace(bitsText))
        {
            if (!int.TryParse(bitsText, out int b) || b is not (8 or 16))
            {
                await Error(ctx, 400, $"'bits' must be 8 or 16 (got '{bitsText}')"); return null;
            }
            bits = b;
        }
        string format = Field(form, "format")?.ToLowerInvariant() ?? "png"; // of the answer
        if (!Formats.ContainsKey(format))
        {
            await Error(ctx, 400, $"'format' must be png, jpg or webp (got '{format}')"); return null;
        }
        if (bits == 16 && format != "png")
        {
            await Error(ctx, 400, $"'bits' 16 needs format png ({format} is 8-bit)"); return null;
        }
        int quality = 95;
        if (Field(form, "quality") is { } q && (!int.TryParse(q, out quality) || quality is < 1 or > 100))
        {
            await Error(ctx, 400, $"'quality' must be 1-100 (got '{q}')");
            return null;
        }
        var ensemble = SelfEnsemble.None;
        if (Field(form, "ensemble") is { } ensembleText)
        {
            if (Restorer.ParseEnsemble(ensembleText) is not { } parsed)
            {
                await Error(ctx, 400, $"'ensemble' must be none, flips or x8 (got '{ensembleText}')");
                return null;
            }
            ensemble = parsed;
        }
        CatalogEntry entry;
        try { entry = Models.Resolve(Field(form, "task"), Field(form, "model")); }
        catch (UserInputException e) { await Error(ctx, 400, e.Message); return null; }

        var bytes = new byte[file.Length];
        await using (var s = file.OpenReadStream()) await s.ReadExactlyAsync(bytes, cancel);

        if (FormatSniffer.UnsupportedImage(bytes) is { } inputFormat)
        {
            await Error(ctx, 415, $"{name}: unsupported image format {inputFormat} (supported: PNG, JPEG, BMP, WebP)");
            return null;
        }
        if (!FormatSniffer.LooksSupported(bytes))
        {
            await Error(ctx, 400, $"{name}: not an image in a supported format (PNG, JPEG, BMP, WebP)");
            return null;
        }
        // the header now (a wrong format or too many pixels is answered at once); the pixels only once a slot is free,
        // so that waiting requests hold their compressed bytes, not decoded images (a 24 MP photo: 3 MB against 290 MB)
        (int Width, int Height) size = default;
        if (await RefuseImage(ctx, () => size = ImageCodec.CheckHeader(bytes, name, _options.MaxPixels))) return null;
        ctx.Items[RequestLog.Model] = entry.Name;
        double megapixels = size.Width * (double)size.Height / 1e6;
        ctx.Items[RequestLog.Megapixels] = Math.Round(megapixels, 2);
        return new Upload(entry, bytes, name, bits, format, quality, ensemble, megapixels);
    }

    async Task RestoreAsync(HttpContext ctx)
    {
        if (await AdmitAsync(ctx) is not var (ticket, upload)) return;
        using var _ = ticket;
        var cancel = ctx.RequestAborted;
        byte[] png;
        try
        {
            var waiting = Stopwatch.StartNew();
            png = await RunAsync(ticket, upload,
                () => ctx.Items[RequestLog.QueueSeconds] = Math.Round(waiting.Elapsed.TotalSeconds, 3), null, cancel);
            ctx.Items[RequestLog.RestoreSeconds] =
                Math.Round(waiting.Elapsed.TotalSeconds - (double)ctx.Items[RequestLog.QueueSeconds]!, 3);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return; }
        catch (ImageFormatException e) { await ImageError(ctx, e); return; }
        catch (UserInputException e)
        {
            await Error(ctx, 500, $"model '{upload.Entry.Name}' cannot be loaded: {e.Message}");
            return;
        }
        await WriteImage(ctx, png, upload.ContentType, upload.Name, upload.Extension, upload.Entry.Name, cancel);
    }

    /// <summary>A restored image as the answer: its type, an inline file name NAME-restored.EXT and the model's
    /// name.</summary>
    static async Task WriteImage(HttpContext ctx, byte[] image, string contentType, string name, string extension,
        string model, CancellationToken cancel)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength = image.Length;
        ctx.Response.Headers.ContentDisposition = "inline; " +
            $"filename=\"{Path.GetFileNameWithoutExtension(name)}-restored{extension}\"";
        ctx.Response.Headers["X-MemoryNet-Model"] = model;
        await ctx.Response.Body.WriteAsync(image, cancel);
    }

    /// <summary>
    /// Decodes, restores and encodes an upload in a run slot of its ticket: tiled under the slot's share of the
    /// server's memory, as the CLI's --max-memory (a phone photo restored whole took a 12 MP upload past 18 GB). The
    /// pixels are decoded only once a slot is free, so that waiting requests hold their compressed bytes, not decoded
    /// images (a 24 MP photo: 3 MB against 290 MB). <paramref name="progress"/> gets (tiles done, total);
    /// <paramref name="cancel"/> stops the work after the tile it is on.
    /// </summary>
    async Task<byte[]> RunAsync(AdmissionQueue.Ticket ticket, Upload upload, Action? started,
        Action<int, int>? progress, CancellationToken cancel)
    {
        using (await ticket.RunSlotAsync(cancel))
        {
            started?.Invoke();
            var image = ImageCodec.Decode(upload.Bytes, upload.Name, _options.MaxPixels);
            int outBits = upload.Format != "png" ? 8 : upload.Bits ?? (image.BitDepth == 16 ? 16 : 8);
            long pixels = (long)image.Width * image.Height;
            var watch = Stopwatch.StartNew();
            var tiling = new TileSettings(MaxMemoryBytes: _options.BytesPerRestore);
            var restorer = upload.Entry.Restorer.WithEnsemble(upload.Ensemble);
            int tile = tiling.TileFor(restorer.Model.Spec, image.Width, image.Height);
            bool whole = tile <= 0 || (tile >= image.Width && tile >= image.Height);
            progress?.Invoke(0,
                whole ? 1
                : TiledRestorer.TileCount(image.Width, image.Height, tile, Math.Min(tiling.Overlap, tile / 2)));
            var restored = ImageRestorer.Restore(restorer, image, outBits, tiling, (done, total) =>
            {
                cancel.ThrowIfCancellationRequested();
                progress?.Invoke(done, total);
            });
            if (whole) progress?.Invoke(1, 1);
            image = null!;
            var png = ImageCodec.Encode(restored, upload.Extension, upload.Quality, outBits, upload.Name);
            restored = null!;
            double perWork = watch.Elapsed.TotalSeconds / upload.Work;
            Volatile.Write(ref _secondsPerWork, 0.7 * Volatile.Read(ref _secondsPerWork) + 0.3 * perWork);
            Volatile.Write(ref _workPerRequest, 0.7 * Volatile.Read(ref _workPerRequest) + 0.3 * upload.Work);
            if (pixels >= LargeImagePixels) ReleaseMemory();
            return png;
        }
    }

    /// <summary>POST /v1/jobs: admits and checks the request as /v1/restore does, then restores in the
    /// background.</summary>
    async Task CreateJobAsync(HttpContext ctx)
    {
        if (await AdmitAsync(ctx) is not var (ticket, upload)) return;
        var job = Jobs.TryCreate(upload.Entry.Name, upload.Name, upload.Extension, upload.ContentType,
            upload.Ensemble);
        if (job is null)
        {
            ticket.Dispose();
            // a finished job frees a place as soon as the oldest running one ends: about one request's time
            ctx.Response.Headers.RetryAfter = Math.Clamp((int)Math.Ceiling(
                Volatile.Read(ref _secondsPerWork) * Volatile.Read(ref _workPerRequest)), 1, 120).ToString();
            await Error(ctx, 503, $"the server keeps {Jobs.MaxJobs} jobs and none of them has finished; retry later");
            return;
        }
        var run = Task.Run(async () =>
        {
            byte[]? png = null;
            var state = JobState.Failed;
            string? error = null;
            try
            {
                png = await RunAsync(ticket, upload, job.Started, job.Report, job.Cancel.Token);
                state = JobState.Done;
            }
            catch (OperationCanceledException) when (job.Cancel.IsCancellationRequested) { state = JobState.Cancelled; }
            catch (ImageFormatException e) { error = e.Message; }
            catch (UserInputException e) { error = $"model '{upload.Entry.Name}' cannot be loaded: {e.Message}"; }
            catch (Exception e)
            {
                Console.Error.WriteLine($"error: job {job.Id}: {e}");
                error = $"internal error: {e.Message}";
            }
            finally
            {
                // the slot and the queue place are given back before the job shows as finished: a client that saw
                // it finish and sends the next image finds the room this job held
                ticket.Dispose();
                if (state == JobState.Cancelled) ReleaseMemory();
            }
            if (png is not null) Jobs.Complete(job, png);
            else Jobs.Fail(job, state, error);
        });
        _runningJobs[job.Id] = run;
        _ = run.ContinueWith(_ => _runningJobs.TryRemove(job.Id, out var _), TaskScheduler.Default);
        ctx.Response.Headers.Location = $"/v1/jobs/{job.Id}";
        await WriteJson(ctx, 202, job.ToJson());
    }

    Task JobStatus(HttpContext ctx, string id) =>
        Jobs.Get(id) is { } job ? WriteJson(ctx, 200, job.ToJson()) : NoJob(ctx, id);

    async Task JobResultAsync(HttpContext ctx, string id)
    {
        if (Jobs.Get(id) is not { } job) { await NoJob(ctx, id); return; }
        if (job.State != JobState.Done || job.Result is not { } png)
        {
            await Error(ctx, 409, $"job {id} is {job.State.ToString().ToLowerInvariant()}" +
                $"{(job.Error is null ? "" : $": {job.Error}")}; its result exists once it is done");
            return;
        }
        await WriteImage(ctx, png, job.ContentType, job.Name, job.Extension, job.Model, ctx.RequestAborted);
    }

    Task DeleteJob(HttpContext ctx, string id)
    {
        if (Jobs.Get(id) is not { } job) return NoJob(ctx, id);
        if (job.Finished)
        {
            Jobs.Remove(id);
            ctx.Response.StatusCode = 204;
            return Task.CompletedTask;
        }
        job.Cancel.Cancel(); // the tile loop stops after the tile it is on
        return WriteJson(ctx, 202, job.ToJson());
    }

    /// <summary>Every /v1/ request but liveness, readiness and CORS preflights.</summary>
    static bool NeedsKey(HttpRequest request) =>
        request.Path.StartsWithSegments("/v1") && !HttpMethods.IsOptions(request.Method)
        && !request.Path.Equals("/v1/health", StringComparison.OrdinalIgnoreCase)
        && !request.Path.Equals("/v1/ready", StringComparison.OrdinalIgnoreCase);

    /// <summary>The key in X-API-Key or Authorization: Bearer, compared in constant time.</summary>
    static bool HasKey(HttpRequest request, string key)
    {
        string given = request.Headers["X-API-Key"].ToString();
        string auth = request.Headers.Authorization.ToString();
        if (given.Length == 0 && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = auth["Bearer ".Length..].Trim();
        return CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(given),
            System.Text.Encoding.UTF8.GetBytes(key));
    }

    static Task NoJob(HttpContext ctx, string id) =>
        Error(ctx, 404, $"no job {id} (finished jobs are kept for the server's --job-ttl)");

    /// <summary>Images from this size on free their memory before the next restore starts
    /// (<see cref="ReleaseMemory"/>).</summary>
    const long LargeImagePixels = 4_000_000;

    /// <summary>
    /// Hands a large restore's memory back before the slot goes to the next request. Its decoded input, output and
    /// PNG buffers (~0.9 GB for 24 MP) are large managed arrays that the GC would otherwise collect at its own pace:
    /// four 24 MP uploads in a row took the server to 4.8 GB, one to 1.7 GB. A blocking, compacting, decommitting
    /// collection costs tens of milliseconds against a restore of minutes; malloc_trim returns libtorch's freed pages.
    /// </summary>
    static void ReleaseMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
    }

    /// <summary>Runs a header check; answers as <see cref="ImageError"/> when it fails.</summary>
    static async Task<bool> RefuseImage(HttpContext ctx, Action check)
    {
        try { check(); return false; }
        catch (ImageFormatException e) { await ImageError(ctx, e); return true; }
    }

    /// <summary>413 (too many pixels), 415 (unsupported) or 400 for an image that cannot be read.</summary>
    static Task ImageError(HttpContext ctx, ImageFormatException e)
    {
        return e.Problem switch
        {
            ImageProblem.TooManyPixels => Error(ctx, 413, e.Message + " (the server's --max-pixels)"),
            ImageProblem.Unsupported => Error(ctx, 415, e.Message),
            _ => Error(ctx, 400, e.Message),
        };
    }

    static string? Field(IFormCollection form, string key) =>
        form.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.ToString().Trim() : null;

    /// <summary>A display name for the upload: the file name without folders or odd characters.</summary>
    static string SafeName(string? fileName)
    {
        string n = Path.GetFileName((fileName ?? "").Replace('\\', '/'));
        n = new string(n.Where(c => !char.IsControl(c) && c is not '"' and not ';').ToArray()).Trim();
        return n.Length == 0 ? "image" : n.Length > 100 ? n[..100] : n;
    }

    static string Mb(long bytes) => $"{bytes / (1024.0 * 1024.0):0.#} MB";

    /// <summary>The most a too-large request body is read (and discarded) after its 413, so the client sees the
    /// answer.</summary>
    long DrainCap => Math.Max(4 * _options.MaxRequestBytes, 256L * 1024 * 1024);

    /// <summary>Answers 413 and closes the connection; first drains the unread body when the client is sending it
    /// anyway.</summary>
    async Task TooLarge(HttpContext ctx, string message, Stream body, bool canDrain)
    {
        ctx.Response.Headers.Connection = "close";
        bool expectContinue = ctx.Request.Headers.Expect.ToString()
            .Contains("100-continue", StringComparison.OrdinalIgnoreCase);
        var sizeFeature = ctx.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = DrainCap;
        await Error(ctx, 413, message);
        if (!canDrain || expectContinue) return;
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var buffer = new byte[64 * 1024];
        try { while (await body.ReadAsync(buffer, timeout.Token) > 0) { } }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // gave up: the connection closes
        }
    }

    /// <summary>The methods each path answers (for 405's Allow header).</summary>
    static readonly Dictionary<string, string> Routes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["/v1/health"] = "GET", ["/v1/ready"] = "GET", ["/v1/models"] = "GET", ["/v1/restore"] = "POST",
        ["/v1/jobs"] = "POST",
        ["/openapi/v1.json"] = "GET", ["/"] = "GET", ["/app.js"] = "GET", ["/app.css"] = "GET",
    };

    /// <summary>The methods a path answers, or null for an unknown path (the job paths carry an id).</summary>
    static string? AllowedMethods(string path)
    {
        if (Routes.TryGetValue(path, out var allowed)) return allowed;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts is ["v1", "jobs", _]) return "GET, DELETE";
        if (parts is ["v1", "jobs", _, "result"]) return "GET";
        return null;
    }

    static Task Error(HttpContext ctx, int status, string message) =>
        WriteJson(ctx, status, new JsonObject { ["error"] = message });

    static Delegate Handler(Func<HttpContext, Task> handler) => handler;
    static Delegate Handler(Func<HttpContext, string, Task> handler) => handler;

    static Task WriteJson(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return ctx.Response.WriteAsync(body.ToJsonString(JsonOptions));
    }

    static async Task Page(HttpContext ctx, string file, string contentType)
    {
        await using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("wwwroot/" + file)
            ?? throw new InvalidOperationException($"embedded page file {file} is missing from the build");
        ctx.Response.ContentType = contentType;
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        if (file.EndsWith(".html")) ctx.Response.Headers.ContentSecurityPolicy =
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'";
        await s.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
    }

    /// <summary>No Ctrl+C handling: the owner (a test) stops the server.</summary>
    sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
