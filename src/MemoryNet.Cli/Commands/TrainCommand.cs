using System.CommandLine;
using System.Runtime.InteropServices;
using MemoryNet.Data;
using MemoryNet.Training;
using Spectre.Console;

namespace MemoryNet.Cli.Commands;

/// <summary>
/// memorynet train (--config FILE.yml | options): every setting of <see cref="TrainOptions"/> is a flag of the same
/// name; flags override the config file; the effective config is saved in the run folder.
/// </summary>
public static class TrainCommand
{
    static readonly Dictionary<string, string> Help = new()
    {
        ["data"] = "Training data folder", ["format"] = "Layout of --data/--val: paired, istd, raindrop, gopro, rice",
        ["val"] = "Validation data folder (scored with val-protocol; best.safetensors by its PSNR)",
        ["val-format"] = "Layout of --val (default: --layout's)",
        ["arch"] = "Architecture preset (unset: with --resume the run's saved network, else --init's, else " +
            "memorynet): " + MemoryNet.Architectures.ArchRegistry.PresetNames,
        ["head"] = "What the last convolution predicts (MPRNet family): residual (the reference) or affine (a " +
            "per-pixel gain and offset)",
        ["memory-branches"] = "Stages that read the memory (0 = MPRNet … 3 = MemoryNet)",
        ["feature-memory"] = "Feature-level memories in the stage-2 U-Net: none, encoder, decoder, both",
        ["recon-weight"] = "Weight of the feature-memory reconstruction loss",
        ["memory-pretrain-steps"] = "Two-phase training: first steps fit the input memory to clean images only",
        ["memory-init-scale"] = "Draw the input memory's items in ±scale/√3 (1 = the reference): larger items make " +
            "the memory reads depend on the pixel from the first step (docs/ablation.md)",
        ["patch"] = "Training patch size", ["val-patch"] = "Validation centre-crop size", ["batch"] = "Batch size",
        ["epochs"] = "Epochs to train", ["steps"] = "Optimiser steps to train (instead of --epochs)",
        ["lr"] = "Initial learning rate", ["lr-min"] = "Final learning rate of the cosine schedule",
        ["warmup-epochs"] = "Linear warm-up epochs (at most a fifth of the run)",
        ["weight-decay"] = "Adam weight decay", ["edge-weight"] = "Weight of the edge (Laplacian) loss",
        ["fft-weight"] = "Weight of the spectrum loss (L1 between orthonormal 2-D FFTs, MIMO-UNet's term; 0 = off)",
        ["pixel-loss"] = "Per-pixel loss: charbonnier (the paper), l1, l2 (mean squared error; a sparse degradation " +
            "such as a shadow can leave an L1-type loss stuck at the identity), or psnr (each image's negative PSNR, " +
            "averaged: the metric itself, as in HINet/NAFNet)",
        ["contrastive-weight"] = "Weight of contrastive regularisation (0 = off)",
        ["contrastive-features"] = "Contrastive feature extractor: gradient-pyramid, or a torchvision VGG19 .pth",
        ["grad-clip"] = "Clip the gradient norm (0 = off)",
        ["ema"] = "EMA decay of weights (0 = off), e.g. 0.999", ["seed"] = "Seed of data order, crops and init",
        ["threads"] = "CPU threads for the network",
        ["precision"] = "fp32, or bf16: mixed precision (fp32 master weights and optimiser, bf16 network; needs a " +
            "CPU with AVX512-BF16 or AMX)",
        ["data-parallel"] = "Run each step as two half-batches on two threads, one copy of the network each (same " +
            "update; faster for narrow networks such as nafnet-s and memorynet-s in bf16)",
        ["workers"] = "Background data-loading workers", ["out"] = "Run folder",
        ["max-seconds"] = "Stop cleanly with a checkpoint after this many seconds",
        ["init"] = "Fine-tune from any loadable checkpoint",
        ["synth"] = "Degrade clean photos on the fly: " +
            string.Join(", ", MemoryNet.Data.Synthesis.Degradations.Names),
        ["clean"] = "Clean photos for --synth",
        ["synth-size"] = "Scene size for --synth: photos are scaled and degraded as `synth --size N` would, " +
            "patches cut from that",
        ["synth-zoom"] = "Scale augmentation for --synth: scenes cut at a random scale with up to Z times the detail " +
            "of the --synth-size scale (more distinct scenes from few photos; 1 = off)",
        ["synth-gamma"] = "Exposure augmentation for --synth: each clean scene raised to a power between 1/G and G " +
            "before it is degraded (1 = off)",
        ["synth-kernels"] = "Folder of measured blur kernels (kernels.json or greyscale images) that --synth blur " +
            "draws 30 % of its samples from",
        ["synth-clean"] = "Fraction of --synth samples left undegraded (input = target): teaches the network to " +
            "leave clean content alone (0 = off)",
        ["log-every"] = "Log every N steps", ["val-every"] = "Validate every N steps",
        ["save-every"] = "Checkpoint every N steps",
        ["keep-every"] = "Also keep the weights every N steps in RUN/steps/ (for models average; 0 = off)",
        ["val-max"] = "Validation images used", ["val-protocol"] = "Protocol of the validation score",
    };

    static readonly TrainOptions Defaults = new();

    public static Command Create()
    {
        var cmd = new Command("train", "Train MemoryNet/MPRNet on paired data (the paper's recipe; resumable)");
        var config =
            new Option<string?>("--config") { Description = "YAML config with the same names as these options" };
        var resume =
            new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint" };
        cmd.Options.Add(config);
        cmd.Options.Add(resume);
        var options = new List<(TrainSetting Setting, Option Opt)>();
        foreach (var setting in TrainOptions.Settings)
        {
            var type = setting.Type;
            var optType = typeof(Option<>)
                .MakeGenericType(type == typeof(string) ? typeof(string) : typeof(Nullable<>).MakeGenericType(type));
            // the dataset layout is --layout (--val-layout) as everywhere; the older --format spelling still works
            string flag = setting.Name;
            string[] aliases = flag is "format" or "val-format" ? ["--" + flag] : [];
            string name = flag switch { "format" => "layout", "val-format" => "val-layout", _ => flag };
            var opt = (Option)Activator.CreateInstance(optType, "--" + name, aliases)!;
            object? fallback = setting.Get(Defaults);
            opt.Description = (Help.GetValueOrDefault(flag)
                ?? throw new InvalidOperationException($"train option --{flag} has no help text"))
                + (fallback is null ? ""
                    : $" [default: {Convert.ToString(fallback, System.Globalization.CultureInfo.InvariantCulture)}]");
            cmd.Options.Add(opt);
            options.Add((setting, opt));
        }
        cmd.SetAction(p => Run(p, p.GetValue(config), p.GetValue(resume), options));
        return cmd;
    }

    static int Run(ParseResult p, string? configPath, bool resume, List<(TrainSetting Setting, Option Opt)> options)
    {
        // config file (or the run's own when resuming), then the flags given on the command line
        string? outFlag = options.Where(o => o.Setting.Name == "out")
            .Select(o => p.GetResult(o.Opt) is null ? null : (string?)p.GetValue<string>(o.Opt.Name)).FirstOrDefault();
        if (resume && configPath is null && outFlag is not null && File.Exists(Path.Combine(outFlag, "config.yml")))
            configPath = Path.Combine(outFlag, "config.yml");
        var o = configPath is null ? new TrainOptions() : TrainOptions.FromYaml(configPath);
        CliCommon.WarnOldSpelling(p, ("--format", "--layout"), ("--val-format", "--val-layout"));
        foreach (var (setting, opt) in options)
            if (p.GetResult(opt) is { } r && !r.Implicit)
                setting.Set(o, r.GetValueOrDefault<object>());
        o.Validate();
        string outDir = o.Run.Out;
        if (resume && !File.Exists(Path.Combine(outDir, "state.json")))
            throw new UserInputException(
                $"{outDir}: nothing to resume (no state.json); drop --resume to start a new run");
        if (!resume && File.Exists(Path.Combine(outDir, "state.json")))
            throw new UserInputException($"{outDir}: a run already exists there; use --resume or another --out");

        ISampleSource train = SampleSources.ForTraining(o.Data);
        IReadOnlyList<PairedItem>? val = o.Data.Val is null ? null
            : PairedFolders.Read(o.Data.Val, PairedFolders.ParseLayout(o.Data.ValFormat ?? o.Data.Format));

        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            e.Cancel = true; cts.Cancel(); Console.Error.WriteLine("stopping: saving a checkpoint…");
        };
        Console.CancelKeyPress += onCtrlC;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM,
            ctx => { ctx.Cancel = true; cts.Cancel(); });
        var trainer = new Trainer(o, train, val);
        TrainResult result;
        try
        {
            if (CliCommon.Interactive)
            {
                result = null!;
                AnsiConsole.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                        new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("training", maxValue: 1);
                        result = trainer.Run(resume, r =>
                        {
                            task.MaxValue = r.TotalSteps;
                            task.Value = r.Step;
                            task.Description = $"step {r.Step}/{r.TotalSteps}  loss {r.Loss:0.0000}  " +
                                $"lr {r.Lr:0.0e0}  {r.StepsPerSecond:0.00} it/s";
                        }, s => AnsiConsole.MarkupLine(Markup.Escape(s)), cts.Token);
                    });
            }
            else result = trainer.Run(resume, null, s => Console.Error.WriteLine(s), cts.Token);
        }
        finally { Console.CancelKeyPress -= onCtrlC; }

        string resumeHint =
            result.Reason is StopReason.TimeLimit or StopReason.Interrupted ? "; resume with --resume" : "";
        Console.Error.WriteLine($"{result.Message}{resumeHint}" +
            $"{(result.BestPsnr is double b ? $"; best validation PSNR {b:0.00} dB" : "")}; run " +
            $"folder {Path.GetFullPath(outDir)}");
        return result.Reason switch
        {
            StopReason.NonFiniteLoss => 1,
            StopReason.Interrupted => 130,
            _ => 0,
        };
    }
}
