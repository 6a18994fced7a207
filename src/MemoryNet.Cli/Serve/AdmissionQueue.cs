namespace MemoryNet.Cli.Serve;

/// <summary>
/// Bounds the restore work: at most <c>concurrency</c> requests run, at most <c>queue</c> more wait;
/// beyond that <see cref="TryEnter"/> refuses at once (the server answers 503 with Retry-After).
/// A request takes a ticket when it arrives (before its body is read), then waits for a run slot
/// only around the model call, so decoding and uploads never hold the model.
/// Each ticket carries its work once its image header is known (model passes × megapixels: an 8-pass self-ensemble
/// of a 24-megapixel photo weighs as much as 192 single passes of one megapixel), so that the wait a refused client
/// is told (<see cref="WorkAhead"/>) follows what is queued, not how many requests are.
/// </summary>
public sealed class AdmissionQueue : IDisposable
{
    readonly SemaphoreSlim _run;
    readonly int _capacity;
    readonly object _workLock = new();
    int _inSystem, _withWork;
    double _work;

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

    /// <summary>The work of every admitted request still running or waiting (passes × megapixels); a request whose
    /// size is not known yet (its upload still arriving) counts as <paramref name="unknown"/>.</summary>
    public double WorkAhead(double unknown)
    {
        lock (_workLock) return _work + (Volatile.Read(ref _inSystem) - _withWork) * unknown;
    }

    /// <summary>The seconds a refused client should wait: the work ahead at <paramref name="secondsPerWork"/>, shared
    /// by the run slots, at least 1 and at most 120.</summary>
    public int RetryAfterSeconds(double secondsPerWork, double unknownWork) =>
        (int)Math.Clamp(Math.Ceiling(WorkAhead(unknownWork) * secondsPerWork / Concurrency), 1, 120);

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
        double? _work;

        /// <summary>This request's work (passes × megapixels) once its image header has been read; set once.</summary>
        public double? Work
        {
            get { lock (owner._workLock) return _work; }
            set
            {
                lock (owner._workLock)
                {
                    if (_work is not null || value is not double w || _disposed != 0) return;
                    _work = w; owner._work += w; owner._withWork++;
                }
            }
        }

        /// <summary>Waits for a run slot; dispose the result to give it back.</summary>
        public async Task<IDisposable> RunSlotAsync(CancellationToken cancel)
        {
            await owner._run.WaitAsync(cancel).ConfigureAwait(false);
            return new Slot(owner._run);
        }

        public void Dispose()
        {
            lock (owner._workLock)
            {
                if (_disposed != 0) return;
                _disposed = 1;
                if (_work is double w)
                {
                    owner._withWork--;
                    owner._work = owner._withWork == 0 ? 0 : owner._work - w; // no rounding drift once idle
                }
                Interlocked.Decrement(ref owner._inSystem); // TryEnter increments without the lock
            }
        }
    }

    sealed class Slot(SemaphoreSlim run) : IDisposable
    {
        int _disposed;
        public void Dispose() { if (Interlocked.Exchange(ref _disposed, 1) == 0) run.Release(); }
    }
}
