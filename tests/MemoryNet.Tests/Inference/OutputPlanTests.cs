using MemoryNet.Inference;

namespace MemoryNet.Tests.Inference;

/// <summary>Where a batch restore writes each input (the library's plan, which the restore command follows).</summary>
public class OutputPlanTests
{
    [Fact]
    public void One_input_file_and_an_image_name_is_a_file_else_a_folder_keeping_names()
    {
        var dir = TestPaths.TempDir();
        string a = Path.Combine(dir, "a.png");
        var file = new OutputPlan([a], singleInputArgument: true, Path.Combine(dir, "out.jpg"), null);
        Assert.True(file.SingleFile);
        Assert.Equal(Path.Combine(dir, "out.jpg"), file.TargetOf(a));
        var folder = new OutputPlan([a], singleInputArgument: true, Path.Combine(dir, "out"), "JPEG");
        Assert.False(folder.SingleFile);
        Assert.Equal(Path.Combine(dir, "out", "a.jpg"), folder.TargetOf(a));
        Assert.Contains("cannot write '.tif'",
            Assert.Throws<UserInputException>(() => new OutputPlan([a], true, Path.Combine(dir, "x.tif"), null))
            .Message);
    }

    [Fact]
    public void Two_inputs_that_map_to_one_output_or_an_output_over_an_input_are_conflicts_of_those_inputs()
    {
        var dir = TestPaths.TempDir();
        string a = Path.Combine(dir, "in", "a.png"), b = Path.Combine(dir, "in", "a.jpg"),
            c = Path.Combine(dir, "in", "c.png");
        var plan = new OutputPlan([a, b, c], singleInputArgument: false, Path.Combine(dir, "out"), "png");
        Assert.Null(plan.Conflict(a));                        // the first owns out/a.png
        Assert.Contains("also the output of", plan.Conflict(b));
        Assert.Null(plan.Conflict(c));
        var inPlace = new OutputPlan([a, c], singleInputArgument: false, Path.Combine(dir, "in"), null);
        Assert.Contains("would overwrite an input", inPlace.Conflict(a));
    }
}
