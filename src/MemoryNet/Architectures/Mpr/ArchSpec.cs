using System.Text.Json.Nodes;
using MemoryNet.Architectures;


namespace MemoryNet.Architectures.Mpr;

/// <summary>
/// The numbers that define a network. <see cref="MemoryBranches"/> is how many stages read the memory module
/// (3 = the reference MemoryNet, 0 = plain MPRNet; 1 = stage 3 only, 2 = stages 2 and 3).
/// <see cref="FeatureMemory"/> adds the paper's feature-level memories (Fig. 3) to the stage-2 U-Net:
/// "none" (the reference), "encoder", "decoder" or "both" (see <see cref="MemoryNetModel"/>).
/// <see cref="Head"/> is what the last convolution predicts: "residual" (the reference: stage 3 = input + tail) or
/// "affine" (a per-pixel gain and offset: stage 3 = input ⊙ (1 + g) + b, tail = [g, b], 6 channels), the form of an
/// illumination change such as a shadow, so the texture under a shadow is rescaled rather than redrawn.
/// </summary>
public sealed record ArchSpec(
    string Name,
    int NFeat,
    int ScaleUnetFeats,
    int ScaleOrsnetFeats,
    int NumCab,
    int MemoryBranches,
    int PttNum = 2,
    int NumCls = 10,
    int PartNum = 5,
    int Reduction = 4,
    int KernelSize = 3,
    string FeatureMemory = "none",
    string Head = "residual") : NetSpec(Name)
{
    public override IArchitecture Architecture => MprArchitecture.Instance;

    /// <summary>Stage 1 halves the image twice (quadrants) and its U-Net downsamples twice more: multiples of
    /// 8.</summary>
    public override int SizeMultiple => 8;

    /// <summary><see cref="Inference.MemoryBudget.ConvBytesPerChannelPixel"/> per full-resolution channel (stage 3:
    /// n_feat + scale_orsnetfeats), plus the memory module's reads.</summary>
    public override double ActivationBytesPerPixel =>
        Inference.MemoryBudget.ConvBytesPerChannelPixel * (NFeat + ScaleOrsnetFeats)
            + (HasMemory ? Inference.MemoryBudget.MemoryModuleBytesPerPixel : 0);

    public override RestorationNet Build() => new MemoryNetModel(this);

    public override JsonObject ToJson() => new()
    {
        ["family"] = Architecture.Family, ["name"] = Name, ["n_feat"] = NFeat, ["scale_unetfeats"] = ScaleUnetFeats,
        ["scale_orsnetfeats"] = ScaleOrsnetFeats, ["num_cab"] = NumCab, ["memory_branches"] = MemoryBranches,
        ["ptt_num"] = PttNum,
        ["num_cls"] = NumCls, ["part_num"] = PartNum, ["reduction"] = Reduction, ["kernel_size"] = KernelSize,
        ["feature_memory"] = FeatureMemory, ["head"] = Head,
    };

    public static ArchSpec FromJson(JsonObject o)
    {
        int I(string k, int d) => o[k]?.GetValue<int>() ?? d;
        return new ArchSpec(o["name"]?.GetValue<string>() ?? "custom", I("n_feat", 40), I("scale_unetfeats", 20),
            I("scale_orsnetfeats", 16),
            I("num_cab", 8), I("memory_branches", 3), I("ptt_num", 2), I("num_cls", 10), I("part_num", 5),
            I("reduction", 4), I("kernel_size", 3),
            o["feature_memory"]?.GetValue<string>() ?? "none", o["head"]?.GetValue<string>() ?? "residual");
    }

    public bool AffineHead => Head == "affine";
    public static readonly string[] HeadModes = ["residual", "affine"];
    public bool HasMemory => MemoryBranches > 0;
    public bool EncoderFeatureMemory => FeatureMemory is "encoder" or "both";
    public bool DecoderFeatureMemory => FeatureMemory is "decoder" or "both";
    public static readonly string[] FeatureMemoryModes = ["none", "encoder", "decoder", "both"];

    public static readonly ArchSpec MemoryNet = new("memorynet", 40, 20, 16, 8, 3);
    public static readonly ArchSpec MprnetDerain = new("mprnet-derain", 40, 20, 16, 8, 0);
    public static readonly ArchSpec MprnetDeblur = new("mprnet-deblur", 96, 48, 32, 8, 0);
    public static readonly ArchSpec MprnetDenoise = new("mprnet-denoise", 80, 48, 32, 8, 0);
    /// <summary>Small enough to train on two CPU cores (see docs/performance.md for the measurement behind
    /// it).</summary>
    public static readonly ArchSpec MemoryNetS = new("memorynet-s", 16, 8, 8, 2, 3);

    public static IReadOnlyList<ArchSpec> Presets { get; } = [MemoryNet, MprnetDerain, MprnetDeblur, MprnetDenoise,
        MemoryNetS];

    public override string Describe() =>
        $"{Name} (n_feat {NFeat}, scale_unetfeats {ScaleUnetFeats}, scale_orsnetfeats {ScaleOrsnetFeats}, " +
            $"num_cab {NumCab}, memory branches {MemoryBranches}" +
        (FeatureMemory == "none" ? "" : $", feature memory {FeatureMemory}") + (AffineHead ? ", affine head)" : ")");
}
