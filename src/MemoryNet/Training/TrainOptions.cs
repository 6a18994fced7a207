using MemoryNet.Architectures.Mpr;
using YamlDotNet.Serialization.NamingConventions;
using YamlDotNet.Serialization;

namespace MemoryNet.Training;

/// <summary>
/// Everything a training run is made of. The YAML config uses the same names as the command-line options
/// (e.g. <c>warmup-epochs: 3</c> ↔ <c>--warmup-epochs 3</c>); the effective options are saved as
/// <c>config.yml</c> in the run folder. Defaults are the paper's recipe (memorynet.md §3).
/// </summary>
public sealed class TrainOptions
{
    public string? Data { get; set; }
    public string Format { get; set; } = "paired";
    public string? Val { get; set; }
    public string? ValFormat { get; set; }
    public string Arch { get; set; } = "memorynet";
    /// <summary>Override of the preset's memory branches (0–3): the ablation's knob.</summary>
    public int? MemoryBranches { get; set; }
    /// <summary>Feature-level memories in the stage-2 U-Net: none, encoder, decoder, both.</summary>
    public string? FeatureMemory { get; set; }
    /// <summary>What the last convolution predicts: residual (the reference) or affine (per-pixel gain and
    /// offset).</summary>
    public string? Head { get; set; }
    /// <summary>Weight α of the feature-memory reconstruction loss.</summary>
    public double ReconWeight { get; set; } = 0.1;
    /// <summary>Phase 1 of two-phase training: this many first steps fit the input memory to clean images
    /// only.</summary>
    public long MemoryPretrainSteps { get; set; }
    public int Patch { get; set; } = 256;
    public int ValPatch { get; set; } = 128;
    public int Batch { get; set; } = 16;
    public int? Epochs { get; set; }
    public long? Steps { get; set; }
    public double Lr { get; set; } = 2e-4;
    public double LrMin { get; set; } = 1e-6;
    public double WarmupEpochs { get; set; } = 3;
    public double WeightDecay { get; set; }
    public double EdgeWeight { get; set; } = 0.05;
    /// <summary>Per-pixel term: charbonnier (the paper), l1, or l2 (mean squared error).</summary>
    public string PixelLoss { get; set; } = "charbonnier";
    /// <summary>Weight β of the contrastive regularisation (0 = off).</summary>
    public double ContrastiveWeight { get; set; }
    /// <summary>Feature extractor for the contrastive term: "gradient-pyramid" (default, no download) or a torchvision
    /// VGG19 .pth.</summary>
    public string ContrastiveFeatures { get; set; } = "gradient-pyramid";
    public double GradClip { get; set; }
    public double Ema { get; set; }
    public long Seed { get; set; } = 1234;
    public int Threads { get; set; } = Environment.ProcessorCount;
    /// <summary>fp32, or bf16 mixed precision (<see cref="TrainStep"/>): fp32 master weights and Adam, bf16
    /// network.</summary>
    public string Precision { get; set; } = "fp32";
    public int Workers { get; set; } = 2;
    public string Out { get; set; } = "runs/run";
    public double? MaxSeconds { get; set; }
    public string? Init { get; set; }
    public string? Synth { get; set; }
    public string? Clean { get; set; }
    public int SynthSize { get; set; } = 256;
    /// <summary>Scale augmentation for --synth: each scene is cut from the photo at a random scale with up to this many
    /// times the detail of the `synth --size` scale (log-uniform), then brought to the scene size. 1 = off.</summary>
    public double SynthZoom { get; set; } = 1;
    /// <summary>Exposure augmentation for --synth: each clean scene is raised to a power log-uniform in [1/G, G]. 1 =
    /// off.</summary>
    public double SynthGamma { get; set; } = 1;
    /// <summary>Fraction of --synth samples left undegraded (input = target), negatives for what must not change. 0 =
    /// off.</summary>
    public double SynthClean { get; set; }
    /// <summary>Folder of measured blur kernels (kernels.json or greyscale images) that --synth blur also draws
    /// from.</summary>
    public string? SynthKernels { get; set; }
    public int LogEvery { get; set; } = 10;
    public int ValEvery { get; set; } = 500;
    public int SaveEvery { get; set; } = 200;
    /// <summary>Keep a copy of the weights (the EMA's when on) every N steps in RUN/steps/step-N.safetensors. 0 =
    /// off.</summary>
    public int KeepEvery { get; set; }
    public int ValMax { get; set; } = 50;
    public string ValProtocol { get; set; } = "rgb";

    static readonly INamingConvention Naming = HyphenatedNamingConvention.Instance;

    public static TrainOptions FromYaml(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path}: config file not found");
        try
        {
            var d = new DeserializerBuilder().WithNamingConvention(Naming).Build();
            return d.Deserialize<TrainOptions>(File.ReadAllText(path)) ?? new TrainOptions();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new UserInputException($"{path}: {e.Message.Split('\n')[0]} (line {e.Start.Line})");
        }
    }

    public string ToYaml() =>
        new SerializerBuilder().WithNamingConvention(Naming)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull).Build().Serialize(this);

    /// <summary>Checks the options; every problem is one clear line.</summary>
    public void Validate()
    {
        if (Data is null && Synth is null)
            throw new UserInputException("give data (a dataset folder and its layout) or synth (a degradation) with " +
                "clean (a folder of clean photos)");
        if (Synth is not null && Clean is null)
            throw new UserInputException("synth needs clean (a folder of clean photos)");
        if (Patch < 8 || Patch % 8 != 0)
            throw new UserInputException($"patch must be a multiple of 8, at least 8 (got {Patch})");
        if (Batch < 1) throw new UserInputException($"batch must be at least 1 (got {Batch})");
        if (Steps is null && Epochs is null) throw new UserInputException("give steps or epochs");
        if (Lr <= 0 || LrMin < 0 || LrMin > Lr)
            throw new UserInputException($"need 0 ≤ lr-min ≤ lr and lr > 0 (got {LrMin}, {Lr})");
        if (MemoryBranches is < 0 or > 3)
            throw new UserInputException($"memory-branches must be 0–3 (got {MemoryBranches})");
        if (Ema is < 0 or >= 1) throw new UserInputException($"ema must be in [0, 1) (got {Ema})");
        if (SynthZoom is < 1 or > 8)
            throw new UserInputException($"synth-zoom must be between 1 and 8 (got {SynthZoom})");
        if (KeepEvery < 0)
            throw new UserInputException($"keep-every must be 0 (off) or a number of steps (got {KeepEvery})");
        if (SynthGamma is < 1 or > 4)
            throw new UserInputException($"synth-gamma must be between 1 and 4 (got {SynthGamma})");
        if (SynthClean is < 0 or >= 1)
            throw new UserInputException($"synth-clean must be in [0, 1) (got {SynthClean})");
        if (Head is not null && !ArchSpec.HeadModes.Contains(Head))
            throw new UserInputException($"head must be one of {string.Join(", ", ArchSpec.HeadModes)} (got {Head})");
        if (FeatureMemory is not null && !ArchSpec.FeatureMemoryModes.Contains(FeatureMemory))
            throw new UserInputException(
                $"feature-memory must be one of {string.Join(", ", ArchSpec.FeatureMemoryModes)} " +
                $"(got {FeatureMemory})");
        if (!Losses.PixelLosses.Names.Contains(PixelLoss))
            throw new UserInputException(
                $"pixel-loss must be one of {string.Join(", ", Losses.PixelLosses.Names)} (got {PixelLoss})");
        if (Precision is not ("fp32" or "bf16"))
            throw new UserInputException($"precision must be fp32 or bf16 (got {Precision})");
        if (MemoryPretrainSteps < 0) throw new UserInputException("memory-pretrain-steps must be ≥ 0");
    }
}
