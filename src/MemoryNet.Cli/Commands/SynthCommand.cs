using System.CommandLine;
using MemoryNet.Data.Synthesis;
using Spectre.Console;

namespace MemoryNet.Cli.Commands;

/// <summary>`memorynet synth`: paired training/test data from clean photos (see docs/synthesis.md).</summary>
public static class SynthCommand
{
    public static Command Create()
    {
        var kind = new Option<string>("--kind")
        {
            Description = "Degradation: " +
                string.Join("; ", Degradations.All.Select(d => $"{d.Name} ({d.Description})")), Required = true
        };
        kind.AcceptOnlyFromAmong([.. Degradations.Names]);
        var clean = new Option<string>("--clean")
        {
            Description = "Folder of clean photographs (searched recursively)", Required = true
        };
        var outDir = new Option<string>("--out") { Description = "Output dataset folder (created)", Required = true };
        var count = new Option<int>("--count") { Description = "Number of pairs", DefaultValueFactory = _ => 100 };
        var size = new Option<int>("--size")
        {
            Description = "Crop size in pixels (square)", DefaultValueFactory = _ => 256
        };
        var seed = new Option<long>("--seed")
        {
            Description = "Random seed: the same seed gives the same files", DefaultValueFactory = _ => 0
        };
        var preview = new Option<string?>("--preview")
        {
            Description = "Also write a contact sheet (input | target | mask) of the first pairs to this image file"
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Worker threads (0 = all cores; the output does not depend on it)",
            DefaultValueFactory = _ => 0
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a dataset already in --out" };
        var kernels = new Option<string?>("--kernels")
        {
            Description = "Folder of measured blur kernels (kernels.json or greyscale images) that blur draws " +
                "30 % of its pairs from"
        };

        var cmd = new Command("synth",
            "Make a paired dataset from clean photos with a published degradation model (rain, raindrops, " +
            "shadows, motion blur)");
        foreach (var o in new Option[] { kind, clean, outDir, count, size, seed, preview, threads, overwrite, kernels })
            cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var opts = new SynthOptions(Degradations.Parse(parse.GetValue(kind)!), parse.GetValue(clean)!,
                parse.GetValue(outDir)!,
                parse.GetValue(count), parse.GetValue(size), parse.GetValue(seed), parse.GetValue(preview),
                parse.GetValue(threads), parse.GetValue(overwrite), KernelDir: parse.GetValue(kernels));
            if (opts.Preview is not null && !MemoryNet.Imaging.ImageCodec.IsImagePath(opts.Preview))
                throw new UserInputException($"{opts.Preview}: --preview must end in .png, .jpg, .webp or .bmp");
            void Warn(string w) => Console.Error.WriteLine($"warning: {w}");
            SynthReport report;
            if (CliCommon.Interactive)
            {
                var console =
                    AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                report = null!;
                var warnings = new List<string>();
                console.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                        new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"synth {opts.Kind.Name}", maxValue: opts.Count);
                        report = SynthDataset.Run(opts, warnings.Add, () => task.Increment(1));
                    });
                foreach (var w in warnings) Warn(w);
            }
            else report = SynthDataset.Run(opts, Warn);
            var ps = report.Psnr;
            Console.WriteLine(
                $"wrote {report.Written} {opts.Kind.Name} pairs of {opts.Size}x{opts.Size} ({report.Layout} layout) " +
                $"from {report.PhotosUsed} photos to {opts.OutDir} in {report.Seconds:0.0} s; " +
                $"PSNR input vs target {ps.Min():0.0}-{ps.Max():0.0} dB (median {Median(ps):0.0})");
            if (opts.Preview is not null) Console.WriteLine($"contact sheet: {opts.Preview}");
            return 0;
        });
        return cmd;
    }

    static double Median(double[] v)
    {
        var a = v.Where(double.IsFinite).Order().ToArray();
        return a.Length == 0 ? double.PositiveInfinity : a[a.Length / 2];
    }
}
