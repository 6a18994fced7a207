using System.Globalization;
using System.Reflection;
using MemoryNet.Architectures.Mpr;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MemoryNet.Training;

/// <summary>
/// Everything a training run is made of, grouped as BasicSR groups an experiment: data, network, optimiser, loss,
/// logging, run. Every setting has one hyphenated name, unique across the groups, which is also its command-line flag
/// (<c>warmup-epochs</c> ↔ <c>--warmup-epochs</c>). A YAML config gives settings flat (<c>lr: 2e-4</c>) or under
/// their group (<c>optimiser: {lr: 2e-4}</c>); the effective options are saved, grouped, as <c>config.yml</c> in the
/// run folder. Defaults are the paper's recipe (memorynet.md §3).
/// </summary>
public sealed class TrainOptions
{
    public DataOptions Data { get; set; } = new();
    public NetworkOptions Network { get; set; } = new();
    public OptimiserOptions Optimiser { get; set; } = new();
    public LossOptions Loss { get; set; } = new();
    public LoggingOptions Logging { get; set; } = new();
    public RunOptions Run { get; set; } = new();

    static readonly INamingConvention Naming = HyphenatedNamingConvention.Instance;

    /// <summary>Every setting, group by group, in declaration order.</summary>
    public static IReadOnlyList<TrainSetting> Settings { get; } =
        typeof(TrainOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .SelectMany(g => g.PropertyType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => new TrainSetting(Naming.Apply(g.Name), g, p)))
        .ToArray();

    public static TrainSetting? Setting(string name) => Settings.FirstOrDefault(s => s.Name == name);

    public static TrainOptions FromYaml(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path}: config file not found");
        var yaml = new YamlStream();
        try
        {
            using var reader = new StringReader(File.ReadAllText(path));
            yaml.Load(reader);
        }
        catch (YamlException e)
        {
            throw new UserInputException($"{path}: {e.Message.Split('\n')[0]} (line {e.Start.Line})");
        }
        var o = new TrainOptions();
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return o;
        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new UserInputException($"{path}: expected settings (name: value), one per line");
        foreach (var (key, value) in root.Children)
        {
            if (value is YamlMappingNode section)
            {
                string name = Key(path, key);
                if (!Settings.Any(s => s.Group == name))
                    throw new UserInputException($"{path}: line {key.Start.Line}: unknown group '{name}' (groups: " +
                        $"{string.Join(", ", Settings.Select(s => s.Group).Distinct())})");
                foreach (var (k, v) in section.Children) Apply(o, path, k, v, name);
            }
            else Apply(o, path, key, value, null);
        }
        return o;
    }

    static string Key(string path, YamlNode key) => key is YamlScalarNode { Value: { } name } ? name
        : throw new UserInputException($"{path}: line {key.Start.Line}: a setting's name is one word, e.g. lr");

    static void Apply(TrainOptions o, string path, YamlNode key, YamlNode value, string? group)
    {
        string where = $"{path}: line {key.Start.Line}", name = Key(path, key);
        var setting = Setting(name);
        if (setting is null || (group is not null && setting.Group != group))
            throw new UserInputException($"{where}: unknown setting '{name}'" +
                (setting is null ? "" : $" in {group} (it belongs to {setting.Group})"));
        if (value is not YamlScalarNode scalar)
            throw new UserInputException($"{where}: {setting.Name} takes one value");
        setting.Set(o, setting.Parse(scalar.Style == ScalarStyle.Plain && scalar.Value is "~" or "null" or ""
            ? null : scalar.Value, where));
    }

    /// <summary>The options as YAML, grouped; unset optional settings are left out.</summary>
    public string ToYaml() =>
        new SerializerBuilder().WithNamingConvention(Naming)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull).Build().Serialize(this);

    /// <summary>Checks the options; every problem is one clear line.</summary>
    public void Validate()
    {
        var (d, n, opt, l) = (Data, Network, Optimiser, Loss);
        if (d.Folder is null && d.Synth is null)
            throw new UserInputException("give data (a dataset folder and its layout) or synth (a degradation) with " +
                "clean (a folder of clean photos)");
        if (d.Synth is not null && d.Clean is null)
            throw new UserInputException("synth needs clean (a folder of clean photos)");
        if (d.Patch < 8 || d.Patch % 8 != 0)
            throw new UserInputException($"patch must be a multiple of 8, at least 8 (got {d.Patch})");
        if (d.Batch < 1) throw new UserInputException($"batch must be at least 1 (got {d.Batch})");
        if (opt.Steps is null && opt.Epochs is null) throw new UserInputException("give steps or epochs");
        if (opt.Lr <= 0 || opt.LrMin < 0 || opt.LrMin > opt.Lr)
            throw new UserInputException($"need 0 ≤ lr-min ≤ lr and lr > 0 (got {opt.LrMin}, {opt.Lr})");
        if (n.MemoryBranches is < 0 or > 3)
            throw new UserInputException($"memory-branches must be 0–3 (got {n.MemoryBranches})");
        if (opt.Ema is < 0 or >= 1) throw new UserInputException($"ema must be in [0, 1) (got {opt.Ema})");
        if (d.SynthZoom is < 1 or > 8)
            throw new UserInputException($"synth-zoom must be between 1 and 8 (got {d.SynthZoom})");
        if (Logging.KeepEvery < 0)
            throw new UserInputException(
                $"keep-every must be 0 (off) or a number of steps (got {Logging.KeepEvery})");
        if (d.SynthGamma is < 1 or > 4)
            throw new UserInputException($"synth-gamma must be between 1 and 4 (got {d.SynthGamma})");
        if (d.SynthClean is < 0 or >= 1)
            throw new UserInputException($"synth-clean must be in [0, 1) (got {d.SynthClean})");
        if (n.Head is not null && !ArchSpec.HeadModes.Contains(n.Head))
            throw new UserInputException(
                $"head must be one of {string.Join(", ", ArchSpec.HeadModes)} (got {n.Head})");
        if (n.FeatureMemory is not null && !ArchSpec.FeatureMemoryModes.Contains(n.FeatureMemory))
            throw new UserInputException(
                $"feature-memory must be one of {string.Join(", ", ArchSpec.FeatureMemoryModes)} " +
                $"(got {n.FeatureMemory})");
        if (!Losses.PixelLosses.Names.Contains(l.PixelLoss))
            throw new UserInputException(
                $"pixel-loss must be one of {string.Join(", ", Losses.PixelLosses.Names)} (got {l.PixelLoss})");
        if (Run.Precision is not ("fp32" or "bf16"))
            throw new UserInputException($"precision must be fp32 or bf16 (got {Run.Precision})");
        if (opt.MemoryPretrainSteps < 0) throw new UserInputException("memory-pretrain-steps must be ≥ 0");
        if (n.MemoryInitScale is <= 0 or > 100)
            throw new UserInputException($"memory-init-scale must be in (0, 100] (got {n.MemoryInitScale})");
        if (n.MemoryInitScale != 1 && n.Init is not null)
            throw new UserInputException("memory-init-scale draws a new network's memory and init loads trained "
                + "weights: give only one of them");
    }
}

/// <summary>What the network learns from: a dataset folder or degradations made on the fly, patches, validation
/// pairs.</summary>
public sealed class DataOptions
{
    /// <summary>Training dataset folder (setting <c>data</c>), read in <see cref="Format"/>.</summary>
    [YamlMember(Alias = "data")]
    public string? Folder { get; set; }
    public string Format { get; set; } = "paired";
    public string? Val { get; set; }
    public string? ValFormat { get; set; }
    public int Patch { get; set; } = 256;
    public int ValPatch { get; set; } = 128;
    public int ValMax { get; set; } = 50;
    public int Batch { get; set; } = 16;
    public int Workers { get; set; } = 2;
    public string? Synth { get; set; }
    public string? Clean { get; set; }
    public int SynthSize { get; set; } = 256;
    /// <summary>Scale augmentation for synth: each scene is cut from the photo at a random scale with up to this many
    /// times the detail of the `synth --size` scale (log-uniform), then brought to the scene size. 1 = off.</summary>
    public double SynthZoom { get; set; } = 1;
    /// <summary>Exposure augmentation for synth: each clean scene is raised to a power log-uniform in [1/G, G]. 1 =
    /// off.</summary>
    public double SynthGamma { get; set; } = 1;
    /// <summary>Fraction of synth samples left undegraded (input = target), negatives for what must not change. 0 =
    /// off.</summary>
    public double SynthClean { get; set; }
    /// <summary>Folder of measured blur kernels (kernels.json or greyscale images) that synth blur also draws
    /// from.</summary>
    public string? SynthKernels { get; set; }
}

/// <summary>Which network is trained, and from what weights.</summary>
public sealed class NetworkOptions
{
    /// <summary>A preset name; unset: the architecture of <see cref="Init"/> (a grown or imported network has no
    /// preset), else memorynet.</summary>
    public string? Arch { get; set; }
    /// <summary>Override of the preset's memory branches (0–3): the ablation's knob.</summary>
    public int? MemoryBranches { get; set; }
    /// <summary>Feature-level memories in the stage-2 U-Net: none, encoder, decoder, both.</summary>
    public string? FeatureMemory { get; set; }
    /// <summary>What the last convolution predicts: residual (the reference) or affine (per-pixel gain and
    /// offset).</summary>
    public string? Head { get; set; }
    /// <summary>The input memory's items are drawn uniform in ±scale/√C instead of the reference's ±1/√C (1). The
    /// reads are softmax-weighted mixes of the items, so small items make nearly uniform addresses: at the reference's
    /// scale the instance and semantic reads, the only image that stages 2 and 3 see, hardly depend on the pixel
    /// (<see cref="Memory.MemoryUnit.InputSensitivity"/>). An initialisation only: the architecture is
    /// unchanged.</summary>
    public double MemoryInitScale { get; set; } = 1;
    /// <summary>Weights to start from (any loadable checkpoint).</summary>
    public string? Init { get; set; }
}

/// <summary>Adam, the warm-up/cosine schedule and the run's length.</summary>
public sealed class OptimiserOptions
{
    public int? Epochs { get; set; }
    public long? Steps { get; set; }
    public double Lr { get; set; } = 2e-4;
    public double LrMin { get; set; } = 1e-6;
    public double WarmupEpochs { get; set; } = 3;
    public double WeightDecay { get; set; }
    public double GradClip { get; set; }
    public double Ema { get; set; }
    /// <summary>Phase 1 of two-phase training: this many first steps fit the input memory to clean images
    /// only.</summary>
    public long MemoryPretrainSteps { get; set; }
}

/// <summary>The objective: Σ_stages (pixel + edge-weight · edge [+ fft-weight · spectrum]) [+ contrastive]
/// [+ recon].</summary>
public sealed class LossOptions
{
    /// <summary>Per-pixel term: charbonnier (the paper), l1, l2 (mean squared error) or psnr.</summary>
    public string PixelLoss { get; set; } = "charbonnier";
    public double EdgeWeight { get; set; } = 0.05;
    /// <summary>Weight of the spectrum term (<see cref="Losses.FrequencyLoss"/>; 0 = off, as in the paper).</summary>
    public double FftWeight { get; set; }
    /// <summary>Weight β of the contrastive regularisation (0 = off).</summary>
    public double ContrastiveWeight { get; set; }
    /// <summary>Feature extractor for the contrastive term: "gradient-pyramid" (default, no download) or a torchvision
    /// VGG19 .pth.</summary>
    public string ContrastiveFeatures { get; set; } = "gradient-pyramid";
    /// <summary>Weight α of the feature-memory reconstruction loss.</summary>
    public double ReconWeight { get; set; } = 0.1;
}

/// <summary>What the run writes while it goes: the log, validation scores, checkpoints.</summary>
public sealed class LoggingOptions
{
    public int LogEvery { get; set; } = 10;
    public int ValEvery { get; set; } = 500;
    public string ValProtocol { get; set; } = "rgb";
    public int SaveEvery { get; set; } = 200;
    /// <summary>Keep a copy of the weights (the EMA's when on) every N steps in RUN/steps/step-N.safetensors. 0 =
    /// off.</summary>
    public int KeepEvery { get; set; }
}

/// <summary>Where and how the run executes.</summary>
public sealed class RunOptions
{
    public string Out { get; set; } = "runs/run";
    public double? MaxSeconds { get; set; }
    public long Seed { get; set; } = 1234;
    public int Threads { get; set; } = Environment.ProcessorCount;
    /// <summary>fp32, or bf16 mixed precision (<see cref="TrainStep"/>): fp32 master weights and Adam, bf16
    /// network.</summary>
    public string Precision { get; set; } = "fp32";
    /// <summary>Each step as two half-batches on two threads, one replica of the network each
    /// (<see cref="TrainStep"/>): faster for narrow networks in bf16 (docs/performance.md).</summary>
    public bool DataParallel { get; set; }
}

/// <summary>One setting of <see cref="TrainOptions"/>: its name (YAML key and command-line flag), its group and
/// its value type.</summary>
public sealed class TrainSetting
{
    readonly PropertyInfo group, property;

    internal TrainSetting(string groupName, PropertyInfo group, PropertyInfo property)
    {
        this.group = group;
        this.property = property;
        Group = groupName;
        Name = property.GetCustomAttribute<YamlMemberAttribute>()?.Alias
            ?? HyphenatedNamingConvention.Instance.Apply(property.Name);
    }

    public string Name { get; }
    public string Group { get; }
    /// <summary>The value type, without <see cref="Nullable{T}"/>.</summary>
    public Type Type => Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
    public bool Optional => property.PropertyType == typeof(string)
        || Nullable.GetUnderlyingType(property.PropertyType) is not null;

    public object? Get(TrainOptions o) => property.GetValue(group.GetValue(o));
    public void Set(TrainOptions o, object? value) => property.SetValue(group.GetValue(o), value);

    /// <summary>A value written as text (YAML scalar); <paramref name="where"/> starts the error line.</summary>
    public object? Parse(string? text, string where)
    {
        if (text is null)
            return Optional ? null : throw new UserInputException($"{where}: {Name} needs a value");
        if (Type == typeof(string)) return text;
        try { return Convert.ChangeType(text, Type, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            string kind = Type == typeof(double) ? "a number" : "a whole number";
            throw new UserInputException($"{where}: {Name} takes {kind} (got '{text}')");
        }
    }
}
