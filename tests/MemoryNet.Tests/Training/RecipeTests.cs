using System.Text.RegularExpressions;
using MemoryNet.Data.Synthesis;
using MemoryNet.Training;

namespace MemoryNet.Tests.Training;

/// <summary>The committed training recipes (models/recipes/NAME.yml: a task, or a later phase of one such as
/// derain-2) stay loadable as the code changes.</summary>
public class RecipeTests
{
    public static TheoryData<string> Recipes() =>
        new(Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "models", "recipes"), "*.yml")
        .Select(Path.GetFileNameWithoutExtension).Order()!);

    [Theory]
    [MemberData(nameof(Recipes))]
    public void Each_recipe_loads_validates_and_names_a_known_degradation_and_a_bundled_task(string recipe)
    {
        var o = TrainOptions.FromYaml(Path.Combine(TestPaths.RepoRoot, "models", "recipes", recipe + ".yml"));
        o.Data.Clean = TestPaths.TempDir();   // tools/train-recipe.sh supplies the photos
        o.Validate();
        Assert.NotNull(o.Data.Synth);
        Assert.Contains(Degradations.Parse(o.Data.Synth!), Degradations.All);
        string task = recipe.Split('-')[0];   // as tools/train-recipe.sh reads it: derain-2, deshadow-nafnet
        Assert.True(File.Exists(Path.Combine(TestPaths.RepoRoot, "models", task + ".safetensors")),
            $"no bundled model for recipe '{recipe}'");
        Assert.Contains(o.Logging.ValProtocol, MemoryNet.Metrics.EvalProtocols.All.Select(p => p.Name));
    }
}
