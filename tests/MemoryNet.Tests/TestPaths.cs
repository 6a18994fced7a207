namespace MemoryNet.Tests;

public static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Fixtures(params string[] parts) =>
        Path.Combine([RepoRoot, "tests", "MemoryNet.Tests", "Fixtures", .. parts]);

    /// <summary>A paired dataset (DIR/input, DIR/target) of <paramref name="count"/> random RGB images of
    /// <paramref name="size"/>², each input its target times <paramref name="inputScale"/>. Returns DIR.</summary>
    public static string NoisePairs(string dir, int count, int size, int seed, float inputScale)
    {
        foreach (var sub in new[] { "input", "target" }) Directory.CreateDirectory(Path.Combine(dir, sub));
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var target = Enumerable.Range(0, size * size * 3).Select(_ => (float)rng.NextDouble()).ToArray();
            var input = target.Select(v => v * inputScale).ToArray();
            MemoryNet.Imaging.ImageCodec.Write(new MemoryNet.Imaging.ImageData(size, size, 3, 8, input),
                Path.Combine(dir, "input", $"{i}.png"));
            MemoryNet.Imaging.ImageCodec.Write(new MemoryNet.Imaging.ImageData(size, size, 3, 8, target),
                Path.Combine(dir, "target", $"{i}.png"));
        }
        return dir;
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "memorynet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MemoryNet.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (MemoryNet.slnx) not found");
    }
}
