using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MemoryNet.Inference;

namespace MemoryNet.Cli.Serve;

public enum JobState { Queued, Running, Done, Failed, Cancelled }

/// <summary>
/// One restore run in the background (POST /v1/jobs): its state, tiles done of the total, timings, and when it has
/// finished its image or its error. Progress and state are written by the job's task and read by status requests.
/// </summary>
public sealed class Job
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    double _startedAt = -1, _finishedAt = -1;
    int _done, _total;
    volatile JobState _state = JobState.Queued;

    internal Job(string id, string model, string name, string extension, string contentType, DateTimeOffset created,
        SelfEnsemble ensemble = SelfEnsemble.None)
    {
        Id = id; Model = model; Name = name; Extension = extension; ContentType = contentType; Created = created;
        Ensemble = ensemble;
    }

    public string Id { get; }
    public string Model { get; }
    /// <summary>The self-ensemble asked for.</summary>
    public SelfEnsemble Ensemble { get; }
    /// <summary>The upload's file name (for the result's file name).</summary>
    public string Name { get; }
    /// <summary>The result's file extension and content type (the request's 'format').</summary>
    public string Extension { get; }
    public string ContentType { get; }
    public DateTimeOffset Created { get; }
    public JobState State => _state;
    public bool Finished => _state is JobState.Done or JobState.Failed or JobState.Cancelled;
    public byte[]? Result { get; private set; }
    public string? Error { get; private set; }
    public CancellationTokenSource Cancel { get; } = new();
    /// <summary>When the result (or the record of a failure) is dropped.</summary>
    public DateTimeOffset? Expires { get; private set; }

    public (int Done, int Total) Progress => (Volatile.Read(ref _done), Volatile.Read(ref _total));

    internal void Started() { _startedAt = _clock.Elapsed.TotalSeconds; _state = JobState.Running; }

    internal void Report(int done, int total) { Volatile.Write(ref _total, total); Volatile.Write(ref _done, done); }

    internal void Finish(JobState state, byte[]? result, string? error, TimeSpan keep)
    {
        Result = result;
        Error = error;
        _finishedAt = _clock.Elapsed.TotalSeconds;
        Expires = DateTimeOffset.UtcNow + keep;
        _state = state;
    }

    public JsonObject ToJson()
    {
        var (done, total) = Progress;
        double now = _clock.Elapsed.TotalSeconds;
        double started = _startedAt, finished = _finishedAt;
        var o = new JsonObject
        {
            ["id"] = Id,
            ["state"] = _state.ToString().ToLowerInvariant(),
            ["model"] = Model,
            ["ensemble"] = Restorer.EnsembleName(Ensemble),
            ["name"] = Name,
            ["progress"] = new JsonObject
            {
                ["done"] = done, ["total"] = total, ["fraction"] = total > 0 ? Math.Round(done / (double)total, 4) : 0.0
            },
            ["created"] = Created.ToString("O"),
            ["seconds_waiting"] = Math.Round(started < 0 ? (finished < 0 ? now : finished) : started, 3),
            ["seconds_running"] = started < 0 ? 0 : Math.Round((finished < 0 ? now : finished) - started, 3),
        };
        if (_state == JobState.Done) { o["result"] = $"/v1/jobs/{Id}/result"; o["result_bytes"] = Result?.Length ?? 0; }
        if (Error is not null) o["error"] = Error;
        if (Expires is { } e) o["expires"] = e.ToString("O");
        return o;
    }
}

/// <summary>
/// The jobs of a server: at most <c>maxJobs</c> kept and <c>maxBytes</c> of results held; a finished job is kept for
/// <c>keep</c>, then dropped with its result. A new job may evict the oldest finished one when the store is full; when
/// every kept job is still unfinished it is refused.
/// </summary>
public sealed class JobStore : IDisposable
{
    readonly ConcurrentDictionary<string, Job> _jobs = new();
    readonly object _lock = new();
    readonly Timer _sweeper;

    public JobStore(int maxJobs, long maxBytes, TimeSpan keep)
    {
        MaxJobs = maxJobs; MaxBytes = maxBytes; Keep = keep;
        _sweeper = new Timer(_ => Sweep(), null, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15));
    }

    public int MaxJobs { get; }
    public long MaxBytes { get; }
    public TimeSpan Keep { get; }
    public int Count => _jobs.Count;

    /// <summary>A new queued job, or null when the store holds <see cref="MaxJobs"/> unfinished jobs.</summary>
    public Job? TryCreate(string model, string name, string extension = ".png", string contentType = "image/png",
        SelfEnsemble ensemble = SelfEnsemble.None)
    {
        lock (_lock)
        {
            Sweep();
            if (_jobs.Count >= MaxJobs)
            {
                var oldest = _jobs.Values.Where(j => j.Finished).OrderBy(j => j.Expires).FirstOrDefault();
                if (oldest is null) return null;
                Remove(oldest.Id);
            }
            var job = new Job(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), model, name, extension,
                contentType, DateTimeOffset.UtcNow, ensemble);
            _jobs[job.Id] = job;
            return job;
        }
    }

    public Job? Get(string id)
    {
        Sweep();
        return _jobs.TryGetValue(id, out var j) ? j : null;
    }

    /// <summary>Stores a finished job's image, dropping the oldest other results while the total would exceed
    /// <see cref="MaxBytes"/>; a result larger than that alone fails the job.</summary>
    public void Complete(Job job, byte[] png)
    {
        lock (_lock)
        {
            if (png.Length > MaxBytes)
            {
                job.Finish(JobState.Failed, null,
                    $"the result ({png.Length >> 20} MB) is larger than the server keeps for jobs " +
                    $"({MaxBytes >> 20} MB, --max-job-mb)", Keep);
                return;
            }
            long held = _jobs.Values.Sum(j => (long)(j.Result?.Length ?? 0));
            foreach (var old in _jobs.Values.Where(j => j.Result is not null && j != job).OrderBy(j => j.Expires)
                .ToList())
            {
                if (held + png.Length <= MaxBytes) break;
                held -= old.Result!.Length;
                Remove(old.Id);
            }
            job.Finish(JobState.Done, png, null, Keep);
        }
    }

    public void Fail(Job job, JobState state, string? error) { lock (_lock) job.Finish(state, null, error, Keep); }

    public bool Remove(string id)
    {
        if (!_jobs.TryRemove(id, out var job)) return false;
        job.Cancel.Cancel();
        return true;
    }

    void Sweep()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var j in _jobs.Values)
            if (j.Finished && j.Expires <= now) Remove(j.Id);
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        foreach (var j in _jobs.Values) j.Cancel.Cancel();
    }
}
