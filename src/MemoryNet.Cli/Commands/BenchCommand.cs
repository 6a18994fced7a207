using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using MemoryNet.Architectures;
using MemoryNet.Imaging;
using MemoryNet.Inference;
using MemoryNet.Modules;
using MemoryNet.Training;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Cli.Commands;

/// <summary>memorynet bench: seconds per image of a randomly initialised network (the weights do not change the
/// cost).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch")
        {
            Description = "Architecture preset: " + ArchRegistry.PresetNames, DefaultValueFactory = _ => "memorynet"
        };
        var size = new Option<int>("--size")
        {
            Description = "Square input side in pixels", DefaultValueFactory = _ => 256
        };
        var batch =
            new Option<int>("--batch") { Description = "Images per forward pass", DefaultValueFactory = _ => 1 };
        var iters = new Option<int>("--iters")
        {
            Description = "Timed iterations (after one warm-up)", DefaultValueFactory = _ => 5
        };
        var threads = new Option<int>("--threads")
        {
            Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount
        };
        var json = new Option<string?>("--json") { Description = "Write the result as JSON to this file" };
        var precision = new Option<string>("--precision")
        {
            Description = "fp32 or bf16", DefaultValueFactory = _ => "fp32"
        };
        var train = new Option<bool>("--train")
        {
            Description = "Time one optimiser step (forward, Charbonnier + edge over the outputs (MPRNet: its 3 " +
                "stages), backward, Adam; --precision bf16: mixed precision) of the batch instead of inference"
        };
        var dataParallel = new Option<bool>("--data-parallel")
        {
            Description = "With --train: the step as two half-batches on two threads (train --data-parallel)"
        };
        var roofline = new Option<bool>("--roofline")
        {
            Description = "Time single 3x3 convolutions (channels-last, fp32 and bf16) and a large matrix product: " +
                "the machine's reachable GFLOP/s"
        };
        var cmd = new Command("bench", "Measure inference speed and peak memory");
        foreach (var o in new Option[]
                 { arch, size, batch, iters, threads, json, precision, train, dataParallel, roofline })
            cmd.Options.Add(o);
        cmd.SetAction(p => p.GetValue(roofline)
            ? RunRoofline(p.GetValue(size), p.GetValue(iters), p.GetValue(threads), p.GetValue(json))
            : p.GetValue(train)
                ? RunTrain(ArchRegistry.FromName(p.GetValue(arch)!), p.GetValue(size), p.GetValue(batch),
                    p.GetValue(iters), p.GetValue(threads), CliCommon.ParsePrecision(p.GetValue(precision)!),
                    p.GetValue(json), p.GetValue(dataParallel))
                : Run(ArchRegistry.FromName(p.GetValue(arch)!), p.GetValue(size), p.GetValue(batch),
                    p.GetValue(iters), p.GetValue(threads), p.GetValue(json),
                    CliCommon.ParsePrecision(p.GetValue(precision)!)));
        return cmd;
    }

    static int Run(NetSpec spec, int size, int batch, int iters, int threads, string? jsonPath, Precision precision)
    {
        if (size < 8 || batch < 1 || iters < 1 || threads < 1)
            throw new UserInputException("--size ≥ 8, --batch ≥ 1, --iters ≥ 1 and --threads ≥ 1 are required");
        torch.set_num_threads(threads);
        torch.manual_seed(1234);
        using var model = spec.Build();
        var restorer = new Restorer(model, precision);
        using var input = rand(batch, 3, size, size);
        var times = new List<double>();
        double rssAfterWarmup = 0;
        long liveAfterWarmup = 0;
        for (int i = 0; i <= iters; i++)
        {
            var sw = Stopwatch.StartNew();
            using (var output = restorer.Restore(input)) { }
            sw.Stop();
            if (i > 0) times.Add(sw.Elapsed.TotalSeconds / batch); // iteration 0 is the warm-up
            if (i == Math.Min(iters, 5))
            {
                rssAfterWarmup = ProcessMemory.CurrentRssMb();
                liveAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
        }
        times.Sort();
        double median = times[times.Count / 2];
        double peakMb = ProcessMemory.PeakRssMb();
        var result = new JsonObject
        {
            ["arch"] = spec.Name, ["size"] = size, ["batch"] = batch,
            ["precision"] = precision.ToString().ToLowerInvariant(), ["threads"] = threads,
            ["seconds_per_image"] = Math.Round(median, 4),
            ["megapixels_per_second"] = Math.Round(size * (double)size / 1e6 / median, 4),
            ["peak_rss_mb"] = Math.Round(peakMb, 1),
            ["iters"] = iters, ["min_seconds_per_image"] = Math.Round(times[0], 4),
            // memory discipline: resident memory and live tensors after the first iterations vs at the end
            ["rss_after_warmup_mb"] = Math.Round(rssAfterWarmup, 1),
            ["rss_end_mb"] = Math.Round(ProcessMemory.CurrentRssMb(), 1),
            ["live_tensors_after_warmup"] = liveAfterWarmup,
            ["live_tensors_end"] = DisposeScopeManager.Statistics.ThreadTotalLiveCount,
        };
        var table = new Table()
            .AddColumns("arch", "size", "batch", "threads", "s/image (median)", "MP/s", "peak RSS MB");
        table.AddRow(spec.Name, size.ToString(), batch.ToString(), threads.ToString(), median.ToString("0.000"),
            (size * (double)size / 1e6 / median).ToString("0.000"), peakMb.ToString("0"));
        AnsiConsole.Write(table);
        if (jsonPath is not null)
            AtomicFile.WriteAllText(jsonPath, result.ToJsonString(new() { WriteIndented = true }));
        return 0;
    }

    /// <summary>Seconds per optimiser step: forward, the paper's loss, backward, Adam (the trainer's
    /// <see cref="TrainStep"/>).</summary>
    static int RunTrain(NetSpec spec, int size, int batch, int iters, int threads, Precision precision,
        string? jsonPath, bool dataParallel)
    {
        if (size < 8 || size % 8 != 0 || batch < 1 || iters < 1 || threads < 1)
            throw new UserInputException("--size must be a multiple of 8; --batch, --iters, --threads ≥ 1");
        torch.set_num_threads(threads);
        torch.manual_seed(1234);
        using var model = spec.Build();
        model.train();
        using var loss = new MemoryNet.Losses.RestorationLoss();
        using var stepper = new TrainStep(model, precision, new StepObjective(loss),
            dataParallel: dataParallel);
        using var x = rand(batch, 3, size, size);
        using var y = rand(batch, 3, size, size);
        var times = new List<double>();
        for (int i = 0; i <= iters; i++)
        {
            var sw = Stopwatch.StartNew();
            stepper.Run(x, y, 2e-4);
            if (i > 0) times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        var result = new JsonObject
        {
            ["arch"] = spec.Name, ["size"] = size, ["batch"] = batch,
            ["precision"] = precision == Precision.Bf16 ? "bf16" : "fp32", ["threads"] = threads,
            ["seconds_per_step"] = Math.Round(median, 4), ["steps_per_second"] = Math.Round(1 / median, 4),
            ["peak_rss_mb"] = Math.Round(ProcessMemory.PeakRssMb(), 1), ["iters"] = iters,
            ["data_parallel"] = stepper.DataParallel,
        };
        AnsiConsole.WriteLine($"{spec.Name} {(precision == Precision.Bf16 ? "bf16" : "fp32")}" +
            $"{(stepper.DataParallel ? " data-parallel" : "")} train step, " +
            $"batch {batch} of {size}²: {median:0.000} s/step ({1 / median:0.00} steps/s), peak " +
            $"RSS {ProcessMemory.PeakRssMb():0} MB");
        if (jsonPath is not null)
            AtomicFile.WriteAllText(jsonPath, result.ToJsonString(new() { WriteIndented = true }));
        return 0;
    }

    /// <summary>GFLOP/s of one C→C 3×3 convolution on 1×C×size×size (NHWC) per precision and width, and of a
    /// 2048² matmul.</summary>
    static int RunRoofline(int size, int iters, int threads, string? jsonPath)
    {
        if (size < 8 || iters < 1 || threads < 1)
            throw new UserInputException("--size ≥ 8, --iters ≥ 1 and --threads ≥ 1 are required");
        torch.set_num_threads(threads);
        using var mode = inference_mode();
        var rows = new JsonArray();
        var table = new Table().AddColumns("operation", "precision", "median ms", "GFLOP/s");
        double Median(Action op)
        {
            op(); op();
            var t = new List<double>();
            for (int i = 0; i < Math.Max(iters, 3); i++)
            {
                var sw = Stopwatch.StartNew(); op(); t.Add(sw.Elapsed.TotalSeconds);
            }
            t.Sort();
            return t[t.Count / 2];
        }
        void Add(string name, ScalarType dt, double flops, double seconds)
        {
            string prec = dt == ScalarType.BFloat16 ? "bf16" : "fp32";
            table.AddRow(name, prec, $"{seconds * 1e3:0.00}", $"{flops / seconds / 1e9:0}");
            rows.Add(new JsonObject
            {
                ["op"] = name, ["precision"] = prec, ["seconds"] = Math.Round(seconds, 6),
                ["gflops"] = Math.Round(flops / seconds / 1e9, 1)
            });
        }
        foreach (var dt in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            foreach (int c in new[] { 40, 56, 64, 80 })
            {
                using var scope = NewDisposeScope();
                var x = ChannelsLast.Of(rand(1, c, size, size).to(dt));
                var w = ChannelsLast.Of(rand(c, c, 3, 3).to(dt).MulK_(0.01));
                double sec = Median(() => { using var y = nn.functional.conv2d(x, w, padding: [1, 1]); });
                Add($"conv3x3 {c}->{c} at {size}² (NHWC)", dt, 2.0 * c * c * 9 * size * size, sec);
            }
            using (var scope = NewDisposeScope())
            {
                var a = rand(2048, 2048).to(dt);
                var b = rand(2048, 2048).to(dt);
                double sec = Median(() => { using var y = a.matmul(b); });
                Add("matmul 2048x2048x2048", dt, 2.0 * 2048 * 2048 * 2048, sec);
            }
        }
        AnsiConsole.Write(table);
        if (jsonPath is not null)
            AtomicFile.WriteAllText(jsonPath,
                new JsonObject { ["threads"] = threads, ["size"] = size, ["ops"] = rows }.ToJsonString(
                    new() { WriteIndented = true }));
        return 0;
    }
}
