using System.CommandLine;
using MemoryNet.Architectures;
using MemoryNet.Cli.Serve;
using MemoryNet.Imaging;
using TorchSharp;

namespace MemoryNet.Cli.Commands;

/// <summary>memorynet serve [--urls URL] [--max-upload-mb N] [--max-pixels N] [--concurrency N] [--queue N] [--model
/// FILE --arch P] [--threads N]</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Address(es) to listen on, ';'-separated (port 0 picks a free port)",
            DefaultValueFactory = _ => "http://127.0.0.1:8080"
        };
        var maxUpload = new Option<double>("--max-upload-mb")
        {
            Description = "Largest image upload in MB; larger ones get 413", DefaultValueFactory = _ => 50
        };
        var maxPixels = new Option<long>("--max-pixels")
        {
            Description = "Refuse images with more pixels than this (413), before decoding",
            DefaultValueFactory = _ => ImageCodec.DefaultMaxPixels
        };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Restores that run at the same time (they share the --threads budget)",
            DefaultValueFactory = _ => 1
        };
        var queue = new Option<int>("--queue")
        {
            Description = "Requests that may wait for a free slot; beyond that 503 with Retry-After",
            DefaultValueFactory = _ => 16
        };
        var model = new Option<string?>("--model", "-m")
        {
            Description = "A weights file (or bundled model name) to load at start-up and use when a " +
                "request names no task/model"
        };
        var arch = new Option<string?>("--arch")
        {
            Description = "Architecture preset for --model when the file names none: " + ArchRegistry.PresetNames
        };
        var threads = new Option<int>("--threads")
        {
            Description = "CPU threads for the model (default: all cores)",
            DefaultValueFactory = _ => Environment.ProcessorCount
        };
        var maxMemory = new Option<string>("--max-memory")
        {
            Description = "Memory for restores, shared by the --concurrency slots; an image that would need more " +
                "than its share is restored in tiles (e.g. 2GB, 800MB)", DefaultValueFactory = _ => "2GB"
        };
        var cors = new Option<string[]>("--cors-origin")
        {
            Description = "An origin (e.g. https://example.org) whose web pages may call the API from the browser " +
                "(CORS); repeat for more", AllowMultipleArgumentsPerToken = false
        };
        var maxJobs = new Option<int>("--max-jobs")
        {
            Description = "Jobs (POST /v1/jobs) kept at once, running or finished; a new one evicts " +
                "the oldest finished job", DefaultValueFactory = _ => 32
        };
        var maxJobMb = new Option<int>("--max-job-mb")
        {
            Description = "MB of finished jobs' results held; the oldest are dropped to make room",
            DefaultValueFactory = _ => 256
        };
        var jobTtl = new Option<int>("--job-ttl")
        {
            Description = "Seconds a finished job's result is kept", DefaultValueFactory = _ => 600
        };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "Request log: text, or json (one object per request: id, method, path, status, ms, model, " +
                "megapixels, queue and restore seconds)", DefaultValueFactory = _ => "text"
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "Require this key (header X-API-Key or Authorization: Bearer) on every /v1/ request but " +
                "health and ready; default: $MEMORYNET_API_KEY, else none"
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not log requests to stderr" };

        var cmd = new Command("serve",
            "Serve the web page and the HTTP API (POST /v1/restore, POST /v1/jobs, GET /v1/models; /openapi/v1.json)");
        foreach (var o in new Option[] { urls, maxUpload, maxPixels, concurrency, queue, maxMemory, model, arch,
            threads, cors, maxJobs, maxJobMb, jobTtl, logFormat, apiKey, quiet }) cmd.Options.Add(o);
        cmd.SetAction((p, cancel) =>
        {
            double mb = p.GetValue(maxUpload);
            if (!(mb > 0) || mb > 100_000)
                throw new UserInputException($"--max-upload-mb must be between 0 and 100000 (got {mb})");
            int t = p.GetValue(threads);
            if (t < 1) throw new UserInputException($"--threads must be at least 1 (got {t})");
            var options = new ServeOptions
            {
                Urls = p.GetValue(urls)!,
                MaxUploadBytes = (long)(mb * 1024 * 1024),
                MaxPixels = p.GetValue(maxPixels),
                Concurrency = p.GetValue(concurrency),
                MaxMemoryBytes = MemoryNet.Inference.MemoryBudget.Parse(p.GetValue(maxMemory)!, "--max-memory"),
                Queue = p.GetValue(queue),
                ModelPath = p.GetValue(model),
                Arch = p.GetValue(arch),
                Log = !p.GetValue(quiet),
                CorsOrigins = p.GetValue(cors) ?? [],
                MaxJobs = p.GetValue(maxJobs),
                MaxJobBytes = (long)p.GetValue(maxJobMb) << 20,
                JobTtl = TimeSpan.FromSeconds(p.GetValue(jobTtl)),
                LogFormat = p.GetValue(logFormat)!,
                ApiKey = p.GetValue(apiKey)
                    ?? (Environment.GetEnvironmentVariable("MEMORYNET_API_KEY") is { Length: > 0 } k ? k : null),
            };
            return Run(options, t, cancel);
        });
        return cmd;
    }

    static async Task<int> Run(ServeOptions options, int threads, CancellationToken cancel)
    {
        options.Validate();
        torch.set_num_threads(threads); // once, for the whole server
        await using var server = await RestoreServer.StartAsync(options, handleSignals: true, cancel);
        foreach (var e in server.Models.Entries)
            Console.Error.WriteLine($"model: {e.Name} ({e.Source}{(e.Task is null ? "" : $", task {e.Task}")}, " +
                $"{e.Arch}){(ReferenceEquals(e, server.Models.Default) ? " — default" : "")}");
        if (server.Models.Entries.Count == 0)
            Console.Error.WriteLine($"warning: no models (none bundled in {options.ModelsFolder ?? "models/"}; give " +
                "--model FILE): restores will fail with 400");
        Console.Error.WriteLine($"serving on {server.Address} (page at {server.Address}/, API under " +
            $"/v1/; {options.Concurrency} at a time, {options.Queue} waiting, {threads} threads; Ctrl+C stops)");
        await server.WaitForShutdownAsync(cancel);
        return 0;
    }
}
