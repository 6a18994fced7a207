using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MemoryNet.Imaging;
using MemoryNet.Inference;
using Spectre.Console;

namespace MemoryNet.Cli.Commands;

/// <summary>memorynet restore INPUT... -o OUT</summary>
public static class RestoreCommand
{
    sealed record Settings(
        string[] Inputs, string Output, int? Bits, long MaxPixels, TileSettings Tiling,
        bool SkipExisting, string? Format, bool SideBySide, string? Shard, Precision Precision,
        SelfEnsemble SelfEnsemble, int JpegQuality, string? Json, bool Quiet);

    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "Image files, folders or glob patterns (PNG, JPEG, BMP, WebP)",
            Arity = ArgumentArity.OneOrMore
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output file (one input file, with an image extension) or folder (created); outputs in a " +
                "folder keep the input's name", Required = true
        };
        var bits = new Option<int?>("--bits")
        {
            Description = "PNG output depth 8 or 16 (default: 8, or 16 when the input is 16-bit)"
        };
        var maxPixels = new Option<long>("--max-pixels")
        {
            Description = "Refuse images with more pixels than this (read from the header, before decoding)",
            DefaultValueFactory = _ => ImageCodec.DefaultMaxPixels
        };
        var tile = new Option<int>("--tile")
        {
            Description = "Tiled inference with N×N tiles (a multiple of 8); 0 = whole image, or tiles when it " +
                "would exceed --max-memory", DefaultValueFactory = _ => 0
        };
        var overlap = new Option<int>("--tile-overlap")
        {
            Description = "Pixels shared by neighbouring tiles, blended smoothly (at most half the tile)",
            DefaultValueFactory = _ => 32
        };
        var maxMemory = new Option<string>("--max-memory")
        {
            Description = "Memory budget; images that would need more are tiled automatically (e.g. 2GB, 800MB)",
            DefaultValueFactory = _ => "2GB"
        };
        var skipExisting = new Option<bool>("--skip-existing")
        {
            Description = "Leave inputs whose output already exists (reruns finish interrupted batches)"
        };
        var format =
            new Option<string?>("--format") { Description = "Output format png|jpg|webp|bmp (default: the input's)" };
        var sideBySide = new Option<bool>("--side-by-side")
        {
            Description = "Also write input|output comparison strips (NAME.side.EXT)"
        };
        var shard = new Option<string?>("--shard")
        {
            Description = "Process only shard I of N (I/N, from 0); default: " +
                "JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT when set"
        };
        var precision = new Option<string>("--precision")
        {
            Description = "fp32, or bf16 (about 2-3x faster on CPUs with AVX512-BF16; quality in docs/performance.md)",
            DefaultValueFactory = _ => "fp32"
        };
        var jpegQuality = new Option<int>("--jpeg-quality")
        {
            Description = "Quality of JPEG and WebP outputs, 1-100", DefaultValueFactory = _ => 95
        };
        var json = new Option<string?>("--json")
        {
            Description = "Also write a JSON report: one object per input (file, output, seconds, status: restored, " +
                "already-done, bad-input, failed; error)"
        };
        var quiet = new Option<bool>("--quiet", "-q")
        {
            Description = "Print only problems (no model line, progress or summary)"
        };
        var selfEnsemble = CliCommon.SelfEnsembleOption();
        var model = new ModelOptions();
        var cmd = new Command("restore", "Restore images with a MemoryNet/MPRNet model");
        cmd.Arguments.Add(inputs);
        cmd.Options.Add(output);
        model.AddTo(cmd);
        foreach (var o in new Option[] { bits, maxPixels, tile, overlap, maxMemory, skipExisting, format, sideBySide,
            shard, precision, selfEnsemble, jpegQuality, json, quiet }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            int t = p.GetValue(tile), ov = p.GetValue(overlap);
            if (t < 0 || t % 8 != 0)
                throw new UserInputException($"--tile must be 0 or a positive multiple of 8 (got {t})");
            if (ov < 0 || (t > 0 && ov > t / 2))
                throw new UserInputException(
                    $"--tile-overlap must be between 0 and half the tile{(t > 0 ? $" ({t / 2})" : "")} (got {ov})");
            var tiling = new TileSettings(t, ov, MemoryBudget.Parse(p.GetValue(maxMemory)!, "--max-memory"));
            return Run(p,
                new Settings(p.GetValue(inputs)!, p.GetValue(output)!, p.GetValue(bits), p.GetValue(maxPixels), tiling,
                p.GetValue(skipExisting), p.GetValue(format), p.GetValue(sideBySide), p.GetValue(shard),
                CliCommon.ParsePrecision(p.GetValue(precision)!), CliCommon.ParseSelfEnsemble(p, selfEnsemble),
                p.GetValue(jpegQuality), p.GetValue(json), p.GetValue(quiet)), model);
        });
        return cmd;
    }

    static int Run(ParseResult p, Settings s, ModelOptions modelOptions)
    {
        if (s.Bits is not (null or 8 or 16)) throw new UserInputException($"--bits must be 8 or 16 (got {s.Bits})");
        if (s.JpegQuality is < 1 or > 100)
            throw new UserInputException($"--jpeg-quality must be 1-100 (got {s.JpegQuality})");
        if (s.MaxPixels < 1) throw new UserInputException($"--max-pixels must be at least 1 (got {s.MaxPixels})");
        string? format = s.Format is null ? null : OutputPlan.FormatName(s.Format);
        if (format is not null && !OutputPlan.Formats.Contains(format))
            throw new UserInputException(
                $"--format must be one of {string.Join(", ", OutputPlan.Formats)} (got '{s.Format}')");
        if (s.Bits == 16 && format is not (null or "png"))
            throw new UserInputException("--bits 16 needs PNG output (--format png)");
        var shard = Shard.Resolve(s.Shard, Environment.GetEnvironmentVariable, out var shardSource, "--shard");

        var all = InputCollector.Collect(s.Inputs, includeUnsupported: true);
        if (all.Count == 0) throw new UserInputException($"no images found in {string.Join(", ", s.Inputs)}");
        var plan = new OutputPlan(all, s.Inputs.Length == 1 && File.Exists(s.Inputs[0]), s.Output, format);
        var files = shard.Select(all);
        if (shard.Count > 1 && !s.Quiet)
            Console.Error.WriteLine($"shard {shard} (from {shardSource}): " +
                $"{files.Count} of {all.Count} input(s)");
        if (files.Count == 0)
        {
            if (!s.Quiet) Console.Error.WriteLine("nothing to do: no inputs fall in this shard"); return 0;
        }

        modelOptions.ApplyThreads(p);
        using var model = modelOptions.Load(p, out var source);
        var restorer = new Restorer(model, s.Precision) { Ensemble = s.SelfEnsemble };
        if (!s.Quiet) Console.Error.WriteLine($"model: {source} — {model.Spec.Describe()}");

        int bad = 0, failed = 0, done = 0, skipped = 0, finished = 0;
        var watch = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;

        var fileSettings = new FileRestoreSettings(s.Bits, s.MaxPixels, s.Tiling, s.SideBySide, s.SkipExisting,
            s.JpegQuality);
        var report = new JsonArray();
        void One(string file, Action<int, int>? tileProgress)
        {
            var clock = Stopwatch.StartNew();
            var row = new JsonObject { ["file"] = file, ["output"] = plan.TargetOf(file) };
            try
            {
                var result = BatchRestore.RestoreFile(restorer, plan, file, fileSettings, tileProgress);
                row["output"] = result.Output;
                if (result.Outcome == FileOutcome.AlreadyDone) { skipped++; row["status"] = "already-done"; }
                else { done++; row["status"] = "restored"; }
            }
            catch (ImageFormatException e)
            {
                bad++;
                Console.Error.WriteLine($"skipped: {CliCommon.Describe(e)}");
                row["status"] = "bad-input";
                row["error"] = CliCommon.Describe(e);
            }
            catch (Exception e)
                when (e is IOException or UnauthorizedAccessException or ExternalException or InvalidOperationException
                    or ArgumentException)
            {
                failed++;
                Console.Error.WriteLine($"failed: {file}: {e.Message}");
                row["status"] = "failed";
                row["error"] = e.Message;
            }
            row["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
            report.Add(row);
        }

        if (s.Quiet)
            foreach (var f in files) One(f, null);
        else if (CliCommon.Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                    new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("restoring", maxValue: files.Count);
                    foreach (var f in files)
                    {
                        ProgressTask? tiles = null;
                        One(f, (k, n) =>
                        {
                            tiles ??= ctx.AddTask($"  tiles of {Markup.Escape(Path.GetFileName(f))}", maxValue: n);
                            tiles.Value = k;
                        });
                        if (tiles is not null) { tiles.Value = tiles.MaxValue; tiles.StopTask(); }
                        task.Increment(1);
                    }
                });
        }
        else
            foreach (var f in files)
            {
                var tileReport = watch.Elapsed;
                One(f, (k, n) =>
                {
                    if (watch.Elapsed - tileReport < TimeSpan.FromSeconds(30) || k == n) return;
                    tileReport = watch.Elapsed;
                    Console.Error.WriteLine($"progress: {Path.GetFileName(f)}: tile {k}/{n}");
                });
                finished++;
                // logs (cluster jobs): a progress line at most every 30 s
                if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(30) && finished < files.Count)
                {
                    lastReport = watch.Elapsed;
                    double eta = watch.Elapsed.TotalSeconds / finished * (files.Count - finished);
                    Console.Error.WriteLine(
                        $"progress: {finished}/{files.Count} in {watch.Elapsed.TotalSeconds:0} s, " +
                        $"about {eta:0} s left");
                }
            }

        var extra = new List<string>();
        if (skipped > 0) extra.Add($"{skipped} already done");
        if (bad > 0) extra.Add($"{bad} bad input(s) skipped");
        if (failed > 0) extra.Add($"{failed} failed");
        if (s.Json is not null) AtomicFile.WriteAllText(s.Json, report.ToJsonString(new() { WriteIndented = true }));
        if (!s.Quiet)
            Console.Error.WriteLine($"restored {done} of {files.Count} image(s) in {watch.Elapsed.TotalSeconds:0.0} " +
                $"s{(extra.Count > 0 ? "; " + string.Join("; ", extra) : "")} → {s.Output}");
        return failed > 0 ? 1 : bad > 0 ? 2 : 0;
    }

}
