namespace MemoryNet.Tests;

public static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Fixtures(params string[] parts) =>
        Path.Combine([RepoRoot, "tests", "MemoryNet.Tests", "Fixtures", .. parts]);

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
