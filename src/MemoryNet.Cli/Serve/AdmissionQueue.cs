namespace MemoryNet.Cli.Serve;

/// <summary>
/// Bounds the restore work: at most <c>concurrency</c> requests run, at most <c>queue</c> more wait;
/// beyond that <see cref="TryEnter"/> refuses at once (the server answers 503 with Retry-After).
/// A request takes a ticket when it arrives (before its body is read), then waits for a run slot
/// only around the model call, so decoding and uploads never hold the model.
/// </summary>
public sealed class AdmissionQueue : IDisposable
{
    readonly SemaphoreSlim _run;
    readonly int _capacity;
    int _inSystem;

    public AdmissionQueue(int concurrency, int queue)
    {
        if (concurrency < 1) throw new ArgumentOutOfRangeException(nameof(concurrency));
        if (queue < 0) throw new ArgumentOutOfRangeException(nameof(queue));
        Concurrency = concurrency;
        _capacity = concurrency + queue;
        _run = new SemaphoreSlim(concurrency, concurrency);
    }

    public int Concurrency { get; }

    /// <summary>Requests admitted and not yet finished (running or waiting).</summary>
    public int InSystem => Volatile.Read(ref _inSystem);

    /// <summary>Requests running on the model now.</summary>
    public int Running => Concurrency - _run.CurrentCount;

    /// <summary>A ticket, or null when running + waiting is already at capacity.</summary>
    public Ticket? TryEnter()
    {
        while (true)
        {
            int n = Volatile.Read(ref _inSystem);
            if (n >= _capacity) return null;
            if (Interlocked.CompareExchange(ref _inSystem, n + 1, n) == n) return new Ticket(this);
        }
    }

    public void Dispose() => _run.Dispose();

    /// <summary>A place in the system; dispose it when the request ends.</summary>
    public sealed class Ticket(AdmissionQueue owner) : IDisposable
    {
        int _disposed;

        /// <summary>Waits for a run slot; dispose the result to give it back.</summary>
        public async Task<IDisposable> RunSlotAsync(CancellationToken cancel)
        {
            await owner._run.WaitAsync(cancel).ConfigureAwait(false);
            return new Slot(owner._run);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._inSystem);
        }
    }

    sealed class Slot(SemaphoreSlim run) : IDisposable
    {
        int _disposed;
        public void Dispose() { if (Interlocked.Exchange(ref _disposed, 1) == 0) run.Release(); }
    }
}
