using MemoryNet.Data;

namespace MemoryNet.Cli;

/// <summary>
/// Finds the bundled models: the folder named by MEMORYNET_MODELS, else the models/ folder of the repository the
/// program was built in, else a release's models/ beside the executable or one level up (memorynet-VERSION/bin/ and
/// memorynet-VERSION/models/, see tools/release.sh).
/// </summary>
public static class BundledModels
{
    public static string? Folder()
    {
        var env = Environment.GetEnvironmentVariable("MEMORYNET_MODELS");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? env : null;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "models");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "MemoryNet.slnx")))
                return candidate;
            dir = dir.Parent;
        }
        foreach (var release in new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "..") })
        {
            var candidate = Path.GetFullPath(Path.Combine(release, "models"));
            if (Directory.Exists(candidate) && Directory.EnumerateFiles(candidate, "*.safetensors").Any())
                return candidate;
        }
        return null;
    }

    /// <summary>Where the models were looked for, for messages.</summary>
    public static string Describe() =>
        Folder() ?? (Environment.GetEnvironmentVariable("MEMORYNET_MODELS") is { Length: > 0 } env
        ? $"MEMORYNET_MODELS={env} (not a folder)"
        : $"models/ (none beside {AppContext.BaseDirectory.TrimEnd('/')} or in a MemoryNet repository above it; " +
            "set MEMORYNET_MODELS)");

    public static IEnumerable<string> All() =>
        Folder() is { } f ? Directory.EnumerateFiles(f, "*.safetensors").OrderBy(p => p, StringComparer.Ordinal) : [];

    public static string? TryFind(string name) =>
        All().FirstOrDefault(p => Path.GetFileNameWithoutExtension(p).Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The bundled model for a known task, or null when none is shipped.</summary>
    public static string? PathForTaskOrNull(string task) => RestorationTasks.IsKnown(task) ? TryFind(task) : null;

    public static string PathForTask(string task)
    {
        RestorationTasks.Get(task);
        return TryFind(task)
            ?? throw new UserInputException(
                $"no bundled model for task '{task}' in {Describe()} (give --model FILE instead)");
    }
}
