using MemoryNet.Data.Synthesis;
using MemoryNet.Training;

namespace MemoryNet.Tests.Training;

/// <summary>The committed training recipes (models/recipes/TASK.yml) stay loadable as the code changes.</summary>
public class RecipeTests
{
    public static TheoryData<string> Tasks() =>
        new(Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "models", "recipes"), "*.yml")
        .Select(Path.GetFileNameWithoutExtension).Order()!);

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Each_recipe_loads_validates_and_names_a_known_degradation_and_a_bundled_task(string task)
    {
        var o = TrainOptions.FromYaml(Path.Combine(TestPaths.RepoRoot, "models", "recipes", task + ".yml"));
        o.Clean = TestPaths.TempDir();   // tools/train-recipe.sh supplies the photos
        o.Validate();
        Assert.NotNull(o.Synth);
        Assert.Contains(Degradations.Parse(o.Synth!), Degradations.All);
        Assert.True(File.Exists(Path.Combine(TestPaths.RepoRoot, "models", task + ".safetensors")),
            $"no bundled model for recipe '{task}'");
        Assert.Contains(o.ValProtocol, MemoryNet.Metrics.EvalProtocols.All.Select(p => p.Name));
    }
}
