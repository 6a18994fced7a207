using System.CommandLine;
using MemoryNet.Training;

namespace MemoryNet.Cli.Commands;

/// <summary>`memorynet curves`: the loss and validation curves of several run folders in one plot.</summary>
public static class CurvesCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs")
        {
            Description = "Run folders (or their log.jsonl), each optionally LABEL=FOLDER",
            Arity = ArgumentArity.OneOrMore
        };
        var output = new Option<string>("-o", "--output") { Description = "Image to write (.png)", Required = true };
        var smooth = new Option<int>("--smooth")
        {
            Description = "Moving mean over this many logged rows of each loss curve (default 1 for " +
                "one run, 8 for several)"
        };
        var cmd = new Command("curves", "Plot the loss and validation curves of one or more training runs together");
        cmd.Arguments.Add(runs);
        cmd.Options.Add(output);
        cmd.Options.Add(smooth);
        cmd.SetAction(p =>
        {
            var list = p.GetValue(runs)!.Select(Parse).ToList();
            string path = p.GetValue(output)!;
            if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new UserInputException($"{path}: the plot is a .png");
            int window = p.GetResult(smooth) is null ? (list.Count > 1 ? 8 : 1) : p.GetValue(smooth);
            if (window < 1) throw new UserInputException($"--smooth must be at least 1 (got {window})");
            CurvePlot.Write(list, path, window);
            Console.WriteLine($"wrote {path} ({list.Count} run{(list.Count > 1 ? "s" : "")})");
            return 0;
        });
        return cmd;
    }

    static (string Label, string LogPath) Parse(string arg)
    {
        int eq = arg.IndexOf('=');
        string label = eq > 0 ? arg[..eq] : "", path = eq > 0 ? arg[(eq + 1)..] : arg;
        if (label.Length == 0)
            label = Path.GetFileName(Path.TrimEndingDirectorySeparator(
                Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!));
        string log = Directory.Exists(path) ? new RunFolder(path).Log : path;
        if (!File.Exists(log)) throw new UserInputException($"{path}: no log.jsonl (not a run folder)");
        return (label, log);
    }
}
