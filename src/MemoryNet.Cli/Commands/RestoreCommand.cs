using System.CommandLine;
using System.Diagnostics;
using MemoryNet.Imaging;
using MemoryNet.Inference;
using Spectre.Console;

namespace MemoryNet.Cli.Commands;

/// <summary>memorynet restore INPUT... -o OUT</summary>
public static class RestoreCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT") { Description = "Image files, folders or glob patterns (PNG, JPEG, BMP, WebP)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "Output file (one input file) or folder", Required = true };
        var bits = new Option<int?>("--bits") { Description = "PNG output depth 8 or 16 (default: 8, or 16 when the input is 16-bit)" };
        var maxPixels = new Option<long>("--max-pixels") { Description = "Refuse images with more pixels than this, before decoding", DefaultValueFactory = _ => ImageCodec.DefaultMaxPixels };
        var precision = new Option<string>("--precision") { Description = "fp32, or bf16 (about 2-3x faster on CPUs with AVX512-BF16; quality in docs/performance.md)", DefaultValueFactory = _ => "fp32" };
        var model = new ModelOptions();
        var cmd = new Command("restore", "Restore images with a MemoryNet/MPRNet model");
        cmd.Arguments.Add(inputs);
        cmd.Options.Add(output);
        model.AddTo(cmd);
        cmd.Options.Add(bits);
        cmd.Options.Add(maxPixels);
        cmd.Options.Add(precision);
        cmd.SetAction(p => Run(p, p.GetValue(inputs)!, p.GetValue(output)!, p.GetValue(bits), p.GetValue(maxPixels), model, CliCommon.ParsePrecision(p.GetValue(precision)!)));
        return cmd;
    }

    static int Run(ParseResult p, string[] inputArgs, string output, int? bits, long maxPixels, ModelOptions modelOptions, Precision precision)
    {
        if (bits is not (null or 8 or 16)) throw new UserInputException($"--bits must be 8 or 16 (got {bits})");
        var files = InputCollector.Collect(inputArgs);
        if (files.Count == 0) throw new UserInputException($"no images found in {string.Join(", ", inputArgs)}");
        bool singleFile = files.Count == 1 && File.Exists(inputArgs[0]) && inputArgs.Length == 1 && !Directory.Exists(output);

        modelOptions.ApplyThreads(p);
        using var model = modelOptions.Load(p, out var source);
        var restorer = new Restorer(model, precision);
        Console.Error.WriteLine($"model: {source} — {model.Spec.Describe()}");

        int bad = 0, done = 0;
        var watch = Stopwatch.StartNew();
        void One(string file)
        {
            string target = singleFile ? output : Path.Combine(output, Path.GetFileName(file));
            try
            {
                var image = ImageCodec.Read(file, maxPixels);
                int depth = bits ?? (image.BitDepth == 16 ? 16 : 8);
                if (depth == 16 && !target.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                    target = Path.ChangeExtension(target, ".png");
                var restored = ImageRestorer.Restore(restorer, image, depth);
                ImageCodec.Write(restored, target, depth);
                done++;
            }
            catch (ImageFormatException e)
            {
                bad++;
                Console.Error.WriteLine($"skipped: {e.Message}");
            }
        }

        if (CliCommon.Interactive && files.Count > 1)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("restoring", maxValue: files.Count);
                    foreach (var f in files) { One(f); task.Increment(1); }
                });
        }
        else foreach (var f in files) One(f);

        Console.Error.WriteLine($"restored {done} of {files.Count} image(s) in {watch.Elapsed.TotalSeconds:0.0} s{(bad > 0 ? $"; {bad} skipped" : "")} → {output}");
        return bad > 0 ? 2 : 0;
    }
}
