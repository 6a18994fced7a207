using System.Text;

namespace MemoryNet.Inference;

/// <summary>
/// Splits a batch of inputs over N workers. Rule: a file belongs to shard FNV-1a-64(UTF-8 file name) mod N.
/// Why a hash of the name rather than "i-th file of the sorted list → shard i mod N": a file's shard then depends
/// on its own name only, not on which other files a worker saw when it listed the folder. Workers of a cluster job
/// list the shared folder at different moments (pods start minutes apart, files may still be arriving, a retried pod
/// lists again), and with a position rule one new file shifts every later file to another shard, so some files would
/// be done twice and others never. With the hash, shards are disjoint and together cover every input exactly once
/// for any listing, and a rerun with --skip-existing picks up exactly the missing outputs. The cost: shard sizes are
/// balanced only statistically (±√(n/N)), which does not matter for large batches.
/// The name (not the full path) is the key because outputs are named by it, and mount points differ between machines.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static readonly Shard All = new(0, 1);

    /// <summary>Parses "I/N" with 0 ≤ I &lt; N.</summary>
    public static Shard Parse(string text, string what = "shard")
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0].Trim(), out int i) || !int.TryParse(parts[1].Trim(), out int n))
            throw new UserInputException($"{what} '{text}': expected I/N, e.g. 0/4 (shard I of N, counting from 0)");
        return Create(i, n, what);
    }

    static Shard Create(int i, int n, string what)
    {
        if (n < 1) throw new UserInputException($"{what}: the number of shards must be at least 1 (got {n})");
        if (i < 0 || i >= n)
            throw new UserInputException($"{what}: the shard index must be between 0 and {n - 1} (got {i})");
        return new Shard(i, n);
    }

    /// <summary>
    /// The shard to process: <paramref name="option"/> ("I/N") when given; else a Kubernetes Indexed Job's
    /// JOB_COMPLETION_INDEX with JOB_COMPLETION_COUNT (Kubernetes sets only the index: the manifest sets the count to
    /// the Job's completions); else a Slurm job array's SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (task ids may
    /// start above 0 and have a step: the index is (id − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP); else all
    /// inputs. Returns where the shard came from in <paramref name="source"/>: <paramref name="what"/> (the option's
    /// name, also used in its errors), the environment variables' names, or "none".
    /// </summary>
    public static Shard Resolve(string? option, Func<string, string?> env, out string source, string what = "shard")
    {
        if (!string.IsNullOrWhiteSpace(option)) { source = what; return Parse(option, what); }
        string? Get(string name) => env(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        int Int(string name, string value) => int.TryParse(value, out int v) ? v
            : throw new UserInputException($"{name}='{value}' is not a whole number");

        if (Get("JOB_COMPLETION_INDEX") is { } k8sIndex)
        {
            var count = Get("JOB_COMPLETION_COUNT")
                ?? throw new UserInputException("JOB_COMPLETION_INDEX is set but JOB_COMPLETION_COUNT is not: set it " +
                    "to the Job's completions (see deploy/k8s-restore-job.yaml) or give the shard as I/N");
            source = "JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT";
            return Create(Int("JOB_COMPLETION_INDEX", k8sIndex), Int("JOB_COMPLETION_COUNT", count), source);
        }
        if (Get("SLURM_ARRAY_TASK_ID") is { } slurmId)
        {
            var count = Get("SLURM_ARRAY_TASK_COUNT")
                ?? throw new UserInputException(
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: give the shard as I/N");
            int id = Int("SLURM_ARRAY_TASK_ID", slurmId);
            int min = Get("SLURM_ARRAY_TASK_MIN") is { } m ? Int("SLURM_ARRAY_TASK_MIN", m) : 0;
            int step = Get("SLURM_ARRAY_TASK_STEP") is { } st ? Int("SLURM_ARRAY_TASK_STEP", st) : 1;
            if (step < 1 || (id - min) % step != 0)
                throw new UserInputException($"SLURM_ARRAY_TASK_ID {id} does not fit SLURM_ARRAY_TASK_MIN {min} and " +
                    $"step {step}: give the shard as I/N");
            source = "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT";
            return Create((id - min) / step, Int("SLURM_ARRAY_TASK_COUNT", count), source);
        }
        source = "none";
        return All;
    }

    /// <summary>The shard a file belongs to (by its file name).</summary>
    public static int Of(string path, int count) => (int)(Hash(Path.GetFileName(path)) % (ulong)count);

    public bool Owns(string path) => Count == 1 || Of(path, Count) == Index;

    /// <summary>The inputs of this shard, in their given order.</summary>
    public List<string> Select(IEnumerable<string> inputs) => inputs.Where(Owns).ToList();

    /// <summary>FNV-1a 64-bit over the UTF-8 bytes: fixed across runs, machines and .NET versions (unlike
    /// string.GetHashCode).</summary>
    public static ulong Hash(string key)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(key)) { h ^= b; h *= 1099511628211UL; }
        return h;
    }

    public override string ToString() => $"{Index}/{Count}";
}
