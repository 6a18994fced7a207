using System.CommandLine;
using System.Diagnostics;
using MemoryNet.Data;
using MemoryNet.Imaging;
using MemoryNet.Inference;
using MemoryNet.Metrics;
using MemoryNet.Weights;
using Spectre.Console;

namespace MemoryNet.Cli.Commands;

/// <summary>
/// memorynet demo: restores the shipped samples (samples/demo/TASK.png, made with tools/make-demo-samples.sh) with the
/// bundled models, writes input | restored | original strips and prints PSNR/SSIM before and after.
/// </summary>
public static class DemoCommand
{
    /// <summary>Every task has a sample: samples/demo/TASK.png and TASK-clean.png.</summary>
    public static IReadOnlyList<RestorationTask> Tasks => RestorationTasks.All;

    public sealed record Row(string Task, string Model, string Protocol, PairScore Before, PairScore After,
        double Seconds, string Strip);

    public static Command Create()
    {
        var output = new Option<string>("--out", "-o")
        {
            Description = "Folder for the strips (input | restored | original)",
            DefaultValueFactory = _ => "demo-output"
        };
        var samples = new Option<string?>("--samples")
        {
            Description = "Folder with TASK.png and TASK-clean.png (default: the repository's samples/demo)"
        };
        var precision = new Option<string>("--precision")
        {
            Description = "fp32 or bf16", DefaultValueFactory = _ => "fp32"
        };
        var threads = new Option<int>("--threads")
        {
            Description = "CPU threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount
        };
        var cmd = new Command("demo",
            "Restore the shipped samples (rain, raindrops, shadow, blur) with the bundled models and show the gain");
        cmd.Options.Add(output);
        cmd.Options.Add(samples);
        cmd.Options.Add(precision);
        cmd.Options.Add(threads);
        cmd.SetAction(p =>
        {
            int n = p.GetValue(threads);
            if (n < 1) throw new UserInputException($"--threads must be at least 1 (got {n})");
            TorchSharp.torch.set_num_threads(n);
            var folder = p.GetValue(samples) ?? SamplesFolder()
                ?? throw new UserInputException("samples/demo not found (give --samples DIR)");
            return Run(folder, p.GetValue(output)!, CliCommon.ParsePrecision(p.GetValue(precision)!),
                BundledModels.PathForTaskOrNull);
        });
        return cmd;
    }

    public static string? SamplesFolder()
    {
        var env = Environment.GetEnvironmentVariable("MEMORYNET_SAMPLES");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? env : null;
        var models = BundledModels.Folder();
        if (models is null) return null;
        var candidate = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(models))!, "samples", "demo");
        return Directory.Exists(candidate) ? candidate : null;
    }

    /// <summary>Runs the demo; <paramref name="modelFor"/> maps a task to a weights file (null: none
    /// bundled).</summary>
    public static int Run(string samples, string outDir, Precision precision, Func<string, string?> modelFor)
    {
        Directory.CreateDirectory(outDir);
        var rows = new List<Row>();
        var missing = new List<string>();
        foreach (var t in Tasks)
        {
            string input = Path.Combine(samples, t.Name + ".png"), clean = Path.Combine(samples, t.Name + "-clean.png");
            var model = modelFor(t.Name);
            if (model is null) { missing.Add($"{t.Name}: no bundled model"); continue; }
            if (!File.Exists(input) || !File.Exists(clean))
            {
                missing.Add($"{t.Name}: {input} or {clean} missing"); continue;
            }
            AnsiConsole.MarkupLine(
                $"[grey]{t.Name}: {Markup.Escape(Path.GetFileName(input))} ({t.Shows}) with {Markup.Escape(model)}[/]");
            rows.Add(RunOne(t, input, clean, model, outDir, precision));
        }
        foreach (var m in missing) Console.Error.WriteLine($"demo: skipped {m}");
        if (rows.Count == 0)
        {
            Console.Error.WriteLine("demo: nothing to run (models/ or samples/demo is empty)");
            return 1;
        }
        var table = new Table().Title("Before → after (PSNR dB / SSIM against the clean original)")
            .AddColumns("task", "protocol", "PSNR in", "PSNR out", "gain", "SSIM in", "SSIM out", "s");
        foreach (var r in rows)
            table.AddRow(r.Task, r.Protocol, $"{r.Before.Psnr:F2}", $"{r.After.Psnr:F2}",
                $"{r.After.Psnr - r.Before.Psnr:+0.00;-0.00}",
                $"{r.Before.Ssim:F4}", $"{r.After.Ssim:F4}", $"{r.Seconds:F2}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(
            $"Strips (input | restored | original): {Markup.Escape(string.Join(", ", rows.Select(r => r.Strip)))}");
        AnsiConsole.MarkupLine("[grey]Protocols: docs/protocols.md. The samples are synthetic degradations " +
            "(tools/make-demo-samples.sh) of photos that " +
                               "were also in the models' training corpus; held-out scores are in models/TASK.md.[/]");
        return missing.Count == 0 ? 0 : 1;
    }

    static Row RunOne(RestorationTask t, string input, string clean, string modelPath, string outDir,
        Precision precision)
    {
        // the samples have no shadow masks: a protocol scored per region falls back to the whole image
        var protocol = EvalProtocols.Get(t.Protocol);
        if (protocol.ShadowLab) protocol = EvalProtocols.Get("rgb");
        var degraded = ImageCodec.Read(input);
        var original = ImageCodec.Read(clean);
        using var model = ModelFile.LoadForRestoring(modelPath);
        var restorer = new Restorer(model, precision);
        var sw = Stopwatch.StartNew();
        var restored = ImageRestorer.Restore(restorer, degraded, 8);
        double seconds = sw.Elapsed.TotalSeconds;
        var before = ProtocolScorer.Score(protocol, t.Name, degraded, original);
        var after = ProtocolScorer.Score(protocol, t.Name, restored, original);
        string strip = Path.Combine(outDir, t.Name + ".png");
        ImageCodec.Write(ComparisonStrip.Make([degraded, restored, original]), strip);
        ImageCodec.Write(restored, Path.Combine(outDir, t.Name + "-restored.png"));
        return new Row(t.Name, Path.GetFileNameWithoutExtension(modelPath), protocol.Name, before, after,
            seconds, strip);
    }
}
