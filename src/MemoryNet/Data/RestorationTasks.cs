using MemoryNet.Data.Synthesis;

namespace MemoryNet.Data;

/// <summary>
/// A restoration task: its name (the bundled model's file name), the synthetic degradation that trains it (whose
/// dataset layout its pairs use), the protocol its scores use by default, and what its demo sample shows.
/// </summary>
public sealed record RestorationTask(string Name, Degradation Degradation, string Protocol, string Shows)
{
    public DatasetLayout Layout => Degradation.Layout;
}

/// <summary>The tasks the program ships models for: one declarative list that help texts, the demo, the web service
/// and the model catalog read.</summary>
public static class RestorationTasks
{
    public static readonly RestorationTask Derain = new("derain", Degradations.Rain, "y", "rain streaks");
    public static readonly RestorationTask Deraindrop = new("deraindrop", Degradations.Raindrop, "raindrop",
        "raindrops on glass");
    public static readonly RestorationTask Deshadow = new("deshadow", Degradations.Shadow, "istd", "a cast shadow");
    public static readonly RestorationTask Deblur = new("deblur", Degradations.Blur, "rgb", "camera-shake blur");

    public static readonly IReadOnlyList<RestorationTask> All = [Derain, Deraindrop, Deshadow, Deblur];

    public static IReadOnlyList<string> Names { get; } = All.Select(t => t.Name).ToArray();

    /// <summary>"derain, deraindrop, …" for help texts and messages.</summary>
    public static string List => string.Join(", ", Names);

    public static bool IsKnown(string name) => Names.Contains(name);

    public static RestorationTask Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
            ?? throw new UserInputException($"unknown task '{name}' (known: {List})");
}
