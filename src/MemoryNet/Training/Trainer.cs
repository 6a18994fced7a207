using System.Diagnostics;
using System.Text.Json.Nodes;
using MemoryNet.Architectures.Mpr;
using MemoryNet.Architectures;
using MemoryNet.Data;
using MemoryNet.Imaging;
using MemoryNet.Losses;
using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Training;

/// <summary>What the console shows after each step.</summary>
public sealed record StepReport(long Step, long TotalSteps, double Loss, double Lr, double StepsPerSecond);

/// <summary>How a run ended.</summary>
public enum StopReason { Finished, TimeLimit, Interrupted, NonFiniteLoss }

public sealed record TrainResult(StopReason Reason, long Step, double? BestPsnr, string Message);

/// <summary>
/// The training loop: Adam + warm-up/cosine schedule over Σ_stages (Charbonnier + λ·Edge) [+ β·contrastive], one
/// dispose scope per step, atomic checkpoints (latest + optimiser + state), best by validation PSNR, log.jsonl,
/// curve.png. Resumes at the saved step with the identical learning rate and data order (both are functions of seed and
/// step).
/// </summary>
public sealed class Trainer
{
    private readonly TrainOptions o;
    private readonly ISampleSource train;
    private readonly Validator val;
    private readonly RunFolder run;

    public Trainer(TrainOptions options, ISampleSource train, IReadOnlyList<PairedItem>? val)
    {
        o = options;
        this.train = train;
        this.val = new Validator(val ?? [], options.Logging.ValProtocol, options.Data.ValPatch, options.Data.ValMax);
        run = new RunFolder(options.Run.Out);
    }

    public NetSpec Spec()
    {
        var preset = o.Network.Arch is { } name ? ArchRegistry.FromName(name)
            : o.Network.Init is { } init ? InitSpec(init) : ArchRegistry.FromName("memorynet");
        if (preset is not ArchSpec spec)
        {
            var n = o.Network;
            if (n.MemoryBranches is not null || n.FeatureMemory is not null || n.Head is not null
                || o.Optimiser.MemoryPretrainSteps > 0 || n.MemoryInitScale != 1)
                throw new UserInputException("memory-branches, feature-memory, head, memory-pretrain-steps and " +
                    $"memory-init-scale belong to the MPRNet family; {preset.Name} has none");
            return preset;
        }
        if (o.Network.MemoryBranches is int b && b != spec.MemoryBranches)
            spec = spec with { Name = $"{spec.Name}-m{b}", MemoryBranches = b };
        if (o.Network.FeatureMemory is string f && f != spec.FeatureMemory)
            spec = spec with { Name = $"{spec.Name}-f{f}", FeatureMemory = f };
        if (o.Network.Head is string h && h != spec.Head) spec = spec with { Name = $"{spec.Name}-{h}", Head = h };
        if (o.Optimiser.MemoryPretrainSteps > 0 && !spec.HasMemory)
            throw new UserInputException(
                "memory-pretrain-steps needs a network with the input memory (memory branches ≥ 1)");
        if (o.Network.MemoryInitScale != 1 && !spec.HasMemory)
            throw new UserInputException(
                "memory-init-scale needs a network with the input memory (memory branches ≥ 1)");
        return spec;
    }

    static NetSpec InitSpec(string path)
    {
        using var ckpt = ModelFile.Read(path);
        return ModelFile.SpecOf(ckpt);
    }

    public TrainResult Run(bool resume, Action<StepReport>? onStep, Action<string> say, CancellationToken cancel)
    {
        // live tensors are counted per thread; what this run holds is the count above the one it started from (a thread
        // that ran other work before may carry tensors made elsewhere and disposed here, or the reverse)
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        torch.set_num_threads(Math.Max(1, o.Run.Threads));
        torch.manual_seed(o.Run.Seed);
        Directory.CreateDirectory(run.Dir);

        // a run without --arch resumes as the network it saved: a run started from --init may be resumed without it
        // (tools/train-recipe.sh names INIT only to start), or its init file may be gone
        var spec = resume && o.Network.Arch is null && File.Exists(run.Latest)
            ? InitSpec(run.Latest) : Spec();
        using var model = LoadOrCreate(spec, resume, out var state);
        model.train();
        var (lossOptions, opt) = (o.Loss, o.Optimiser);
        using var loss = new RestorationLoss(lossOptions.EdgeWeight, lossOptions.PixelLoss, lossOptions.FftWeight);
        using var contrastive = lossOptions.ContrastiveWeight > 0
            ? ContrastiveLoss.Create(lossOptions.ContrastiveFeatures) : null;
        var objective = new StepObjective(loss, lossOptions.ReconWeight, contrastive, lossOptions.ContrastiveWeight,
            opt.GradClip);
        using var stepper = new TrainStep(model,
            o.Run.Precision == "bf16" ? Inference.Precision.Bf16 : Inference.Precision.Fp32, objective,
            opt.WeightDecay, o.Run.DataParallel);
        if (resume && File.Exists(run.Adam)) stepper.Optimizer.Load(run.Adam);
        else if (resume && File.Exists(run.Optimizer))
            stepper.Optimizer.LoadTorchSharpState(run.Optimizer); // a run from before FlatAdam
        using var ema = opt.Ema > 0 ? spec.Build() : null;
        if (ema is not null)
        {
            if (resume && File.Exists(run.Ema)) LoadInto(ema, run.Ema);
            else StateDict.CopyParameters(model, ema);
        }

        using var loader = new BatchLoader(train, o.Data.Batch, o.Data.Patch, o.Run.Seed, state.Step,
            Math.Max(1, o.Data.Workers));
        long total = opt.Steps ?? (long)opt.Epochs!.Value * loader.StepsPerEpoch;
        long warmup = Math.Min((long)(opt.WarmupEpochs * loader.StepsPerEpoch), total / 5); // never most of a short run
        var schedule = new LrSchedule(opt.Lr, opt.LrMin, warmup, total);

        if (!resume) AtomicFile.WriteAllText(run.Config, o.ToYaml());
        var log = new RunLog(run.Log);
        if (resume)
            log.Write(new JsonObject
            {
                ["event"] = "resume", ["step"] = state.Step, ["epoch"] = state.Step / loader.StepsPerEpoch
            });
        say($"{spec.Describe()}: {stepper.Optimizer.Count:N0} parameters, {o.Run.Precision}; {train.Count} training " +
            $"samples, {loader.StepsPerEpoch} steps/epoch; " +
            $"steps {state.Step}→{total}, warm-up {warmup}, lr {opt.Lr:G3}→{opt.LrMin:G3}; run folder {run.Dir}");

        var clock = Stopwatch.StartNew();
        double elapsedBefore = state.Seconds;
        long step = state.Step, lastSaved = state.Step;
        var recent = new Queue<double>();
        var rate = Stopwatch.StartNew();
        long rateFrom = step;
        StopReason reason = StopReason.Finished;
        string message = "";

        void Save(bool withCurve = true)
        {
            // the tensors made while writing (state-dict views, optimizer state copies)
            using var scope = NewDisposeScope();
            state = state with { Step = step, Seconds = elapsedBefore + clock.Elapsed.TotalSeconds };
            ModelFile.Save(model, run.Latest, Metadata(spec, state));
            if (ema is not null) ModelFile.Save(ema, run.Ema, Metadata(spec, state));
            stepper.Optimizer.Save(run.Adam);
            AtomicFile.WriteAllText(run.State, state.ToJson());
            if (withCurve) CurvePlot.TryWrite(run.Log, run.Curve);
            lastSaved = step;
        }

        while (step < total)
        {
            if (cancel.IsCancellationRequested) { reason = StopReason.Interrupted; break; }
            if (o.Run.MaxSeconds is double max && clock.Elapsed.TotalSeconds >= max)
            {
                reason = StopReason.TimeLimit; break;
            }

            var batch = loader.Next();
            double lr = schedule.At(step);
            LossParts parts;
            using (var scope = NewDisposeScope())
            {
                var x = tensor(batch.Input, [batch.Count, 3, batch.Size, batch.Size]);
                var y = tensor(batch.Target, [batch.Count, 3, batch.Size, batch.Size]);
                parts = stepper.Run(x, y, lr, memoryPhase: step < opt.MemoryPretrainSteps);
            }
            if (!double.IsFinite(parts.Total))
            {
                reason = StopReason.NonFiniteLoss;
                message = $"loss became {parts.Total} at step {step}: stopped; the last good checkpoint " +
                    $"({run.Latest}, step {lastSaved}) is kept";
                break;
            }
            if (ema is not null) UpdateEma(ema, model, opt.Ema);
            step++;

            recent.Enqueue(parts.Total);
            if (recent.Count > o.Logging.LogEvery) recent.Dequeue();
            double sps = (step - rateFrom) / Math.Max(1e-9, rate.Elapsed.TotalSeconds);
            onStep?.Invoke(new StepReport(step, total, recent.Average(), lr, sps));
            if (step % o.Logging.LogEvery == 0 || step == total)
            {
                var row = new JsonObject
                {
                    ["step"] = step, ["epoch"] = (step - 1) / loader.StepsPerEpoch,
                    ["loss"] = Math.Round(parts.Total, 6),
                    [o.Loss.PixelLoss] = Math.Round(parts.Pixel, 6), ["edge"] = Math.Round(parts.Edge, 6),
                    ["lr"] = lr, ["seconds"] = Math.Round(elapsedBefore + clock.Elapsed.TotalSeconds, 2),
                    ["rss_mb"] = Math.Round(ProcessMemory.CurrentRssMb(), 1),
                    ["live_tensors"] = DisposeScopeManager.Statistics.ThreadTotalLiveCount - liveBefore,
                };
                if (contrastive is not null) row["contrastive"] = Math.Round(parts.Contrastive, 6);
                if (lossOptions.FftWeight != 0) row["fft"] = Math.Round(parts.Frequency, 6);
                if (spec is ArchSpec { FeatureMemory: not "none" }) row["recon"] = Math.Round(parts.Recon, 6);
                if (step <= opt.MemoryPretrainSteps) row["phase"] = 1;
                log.Write(row);
            }
            if (val.Count > 0 && (step % o.Logging.ValEvery == 0 || step == total))
            {
                var scored = val.Score(ema ?? model);
                double input = val.InputScore();
                log.Write(new JsonObject
                {
                    ["event"] = "val", ["step"] = step, ["protocol"] = val.Protocol, ["psnr"] = Math.Round(scored, 4),
                    ["input_psnr"] = Math.Round(input, 4), ["count"] = val.Count
                });
                say($"step {step}: validation PSNR {scored:0.00} dB (input {input:0.00}; {val.Protocol}, " +
                    $"{val.Count} images)");
                if (state.BestPsnr is null || scored > state.BestPsnr)
                {
                    state = state with { BestPsnr = scored, BestStep = step };
                    var meta = Metadata(spec, state);
                    meta["val_psnr"] = scored.ToString("0.0000");
                    meta["val_protocol"] = o.Logging.ValProtocol;
                    ModelFile.Save(ema ?? model, run.Best, meta);
                }
                model.train();
            }
            if (step % o.Logging.SaveEvery == 0) Save();
            if (o.Logging.KeepEvery > 0 && step % o.Logging.KeepEvery == 0)
            {
                using var scope = NewDisposeScope();
                Directory.CreateDirectory(run.Steps);
                ModelFile.Save(ema ?? model, run.StepWeights(step), Metadata(spec, state with { Step = step }));
            }
        }

        if (reason != StopReason.NonFiniteLoss)
        {
            Save();
            // no validation: the last weights are the best we know
            if (val.Count == 0) File.Copy(run.Latest, run.Best, overwrite: true);
            message = reason switch
            {
                StopReason.Finished => $"finished {step} steps",
                StopReason.TimeLimit => $"stopped at the time limit after step {step}",
                _ => $"interrupted at step {step}; checkpoint saved",
            };
        }
        else CurvePlot.TryWrite(run.Log, run.Curve);
        return new TrainResult(reason, step, state.BestPsnr, message);
    }

    RestorationNet LoadOrCreate(NetSpec spec, bool resume, out RunState state)
    {
        state = new RunState(0, 0, null, null);
        if (resume)
        {
            if (!File.Exists(run.Latest) || !File.Exists(run.State))
                throw new UserInputException($"{run.Dir}: nothing to resume (no latest.safetensors/state.json)");
            state = RunState.FromJson(File.ReadAllText(run.State));
            return LoadInto(spec.Build(), run.Latest);
        }
        var model = spec.Build();
        if (o.Network.MemoryInitScale != 1 && model.Memory is { } memory)
            using (torch.no_grad()) memory.Unit.Items.MulK_(o.Network.MemoryInitScale);
        if (o.Network.Init is not null)
        {
            using var ckpt = ModelFile.Read(o.Network.Init);
            ModelFile.Apply(model, spec is ArchSpec { AffineHead: true } ? ModelFile.WithAffineTail(ckpt) : ckpt, spec);
        }
        return model;
    }

    static RestorationNet LoadInto(RestorationNet model, string path)
    {
        using var ckpt = ModelFile.Read(path);
        ModelFile.Apply(model, ckpt, model.Spec);
        return model;
    }

    static void UpdateEma(RestorationNet ema, RestorationNet model, double decay)
    {
        using var _ = no_grad();
        var src = StateDict.UniqueParameters(model);
        var dst = StateDict.UniqueParameters(ema);
        for (int i = 0; i < src.Count; i++) dst[i].MulK_(decay).AddScaled_(src[i], 1 - decay);
    }

    Dictionary<string, string> Metadata(NetSpec spec, RunState state) => new()
    {
        ["step"] = state.Step.ToString(),
        ["training_data"] = o.Data.Synth is not null
            ? $"synth:{o.Data.Synth} from {o.Data.Clean}" : $"{o.Data.Format}:{o.Data.Folder}",
        ["recipe"] = $"patch {o.Data.Patch}, batch {o.Data.Batch}, lr {o.Optimiser.Lr:G3}→{o.Optimiser.LrMin:G3}, " +
            $"seed {o.Run.Seed}",
    };
}
