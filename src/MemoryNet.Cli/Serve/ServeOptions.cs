using MemoryNet.Imaging;

namespace MemoryNet.Cli.Serve;

/// <summary>Settings of <see cref="RestoreServer"/>; the serve command fills them from its options, tests set them
/// directly.</summary>
public sealed record ServeOptions
{
    /// <summary>Where to listen; port 0 picks a free port (see <see cref="RestoreServer.Address"/>).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Largest accepted image upload in bytes (the request body may exceed it by
    /// <see cref="FormOverheadBytes"/>).</summary>
    public long MaxUploadBytes { get; init; } = 50L * 1024 * 1024;

    public long MaxPixels { get; init; } = ImageCodec.DefaultMaxPixels;

    /// <summary>Restores that run at the same time.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>
    /// Memory for restores, shared by the <see cref="Concurrency"/> slots: each restore gets its share and is tiled
    /// (<see cref="MemoryNet.Inference.MemoryBudget"/>) when the whole image would need more, as the CLI's
    /// --max-memory.
    /// </summary>
    public long MaxMemoryBytes { get; init; } = MemoryNet.Inference.MemoryBudget.DefaultBytes;

    /// <summary>What one restore may use: an equal share of <see cref="MaxMemoryBytes"/>.</summary>
    public long BytesPerRestore => MaxMemoryBytes / Concurrency;

    /// <summary>Requests that may wait for a free slot; more are answered 503 with Retry-After.</summary>
    public int Queue { get; init; } = 16;

    /// <summary>A weights file loaded at start-up (the default model), or null.</summary>
    public string? ModelPath { get; init; }

    /// <summary>Architecture preset for <see cref="ModelPath"/> when the file names none.</summary>
    public string? Arch { get; init; }

    /// <summary>The bundled models folder (models/&lt;task&gt;.safetensors); null means none.</summary>
    public string? ModelsFolder { get; init; } = BundledModels.Folder();

    /// <summary>Origins (scheme://host[:port]) whose browser pages may call the API (CORS); none: same origin
    /// only.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Jobs kept (running, waiting or finished); a new job evicts the oldest finished one when full.</summary>
    public int MaxJobs { get; init; } = 32;

    /// <summary>Bytes of finished jobs' PNGs held in memory; older results are dropped to make room.</summary>
    public long MaxJobBytes { get; init; } = 256L << 20;

    /// <summary>How long a finished job's result (or error) is kept.</summary>
    public TimeSpan JobTtl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Write one line per request and start-up messages to stderr.</summary>
    public bool Log { get; init; }

    /// <summary>"text" (a readable line) or "json" (one JSON object per request, for log collectors).</summary>
    public string LogFormat { get; init; } = "text";

    /// <summary>When set, every /v1/ request but health and readiness must carry it (X-API-Key or Authorization:
    /// Bearer).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Room for the multipart boundaries, headers and small fields around the image.</summary>
    public const long FormOverheadBytes = 64 * 1024;

    public long MaxRequestBytes => MaxUploadBytes + FormOverheadBytes;

    public void Validate()
    {
        if (MaxUploadBytes < 1) throw new UserInputException($"--max-upload-mb must be positive");
        if (MaxPixels < 1) throw new UserInputException($"--max-pixels must be at least 1 (got {MaxPixels})");
        if (Concurrency < 1) throw new UserInputException($"--concurrency must be at least 1 (got {Concurrency})");
        if (BytesPerRestore < 64L << 20)
            throw new UserInputException($"--max-memory leaves {BytesPerRestore >> 20} MB per restore with " +
                $"--concurrency {Concurrency}; give each at least 64 MB");
        if (Queue < 0) throw new UserInputException($"--queue must be 0 or more (got {Queue})");
        foreach (var o in CorsOrigins)
            if (!Uri.TryCreate(o, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")
                || u.AbsolutePath != "/" || o.EndsWith('/'))
                throw new UserInputException($"--cors-origin '{o}': give an origin such as https://example.org or " +
                    "http://localhost:3000 (no path)");
        if (LogFormat is not ("text" or "json"))
            throw new UserInputException($"--log-format must be text or json (got '{LogFormat}')");
        if (ApiKey is { } key && (key.Length < 16 || key.Any(char.IsWhiteSpace)))
            throw new UserInputException(
                "--api-key must be at least 16 characters without spaces (e.g. openssl rand -hex 16)");
        if (MaxJobs < 1) throw new UserInputException($"--max-jobs must be at least 1 (got {MaxJobs})");
        if (MaxJobBytes < 1 << 20) throw new UserInputException($"--max-job-mb must be at least 1");
        if (JobTtl <= TimeSpan.Zero)
            throw new UserInputException($"--job-ttl must be positive (got {JobTtl.TotalSeconds} s)");
        if (ModelPath is null && Arch is not null) throw new UserInputException("--arch needs --model FILE");
    }
}
