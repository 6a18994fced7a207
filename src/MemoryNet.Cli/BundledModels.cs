namespace MemoryNet.Cli;

/// <summary>Finds the models/ folder shipped with the repository (or named by MEMORYNET_MODELS).</summary>
public static class BundledModels
{
    public static readonly string[] Tasks = ["derain", "deraindrop", "deshadow", "deblur"];

    public static string? Folder()
    {
        var env = Environment.GetEnvironmentVariable("MEMORYNET_MODELS");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? env : null;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "models");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "MemoryNet.slnx"))) return candidate;
            dir = dir.Parent;
        }
        return null;
    }

    public static IEnumerable<string> All() =>
        Folder() is { } f ? Directory.EnumerateFiles(f, "*.safetensors").OrderBy(p => p, StringComparer.Ordinal) : [];

    public static string? TryFind(string name) =>
        All().FirstOrDefault(p => Path.GetFileNameWithoutExtension(p).Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The bundled model for a known task, or null when none is shipped.</summary>
    public static string? PathForTaskOrNull(string task) => Tasks.Contains(task) ? TryFind(task) : null;

    public static string PathForTask(string task)
    {
        if (!Tasks.Contains(task)) throw new UserInputException($"unknown task '{task}' (known: {string.Join(", ", Tasks)})");
        return TryFind(task) ?? throw new UserInputException($"no bundled model for task '{task}' in {Folder() ?? "models/"} (give --model FILE instead)");
    }
}
