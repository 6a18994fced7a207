namespace MemoryNet.Modules;

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
    string Head = "residual")
{
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
    /// <summary>Small enough to train on two CPU cores (see docs/performance.md for the measurement behind it).</summary>
    public static readonly ArchSpec MemoryNetS = new("memorynet-s", 16, 8, 8, 2, 3);

    public static IReadOnlyList<ArchSpec> Presets { get; } = [MemoryNet, MprnetDerain, MprnetDeblur, MprnetDenoise, MemoryNetS];

    public static ArchSpec FromName(string name) =>
        Presets.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UserInputException($"unknown architecture '{name}' (known: {string.Join(", ", Presets.Select(p => p.Name))})");

    /// <summary>The preset with the same numbers, so that a custom-named spec reports a known name when it is one.</summary>
    public ArchSpec Canonical() =>
        Presets.FirstOrDefault(p => p with { Name = Name } == this) ?? this;

    public string Describe() =>
        $"{Name} (n_feat {NFeat}, scale_unetfeats {ScaleUnetFeats}, scale_orsnetfeats {ScaleOrsnetFeats}, num_cab {NumCab}, memory branches {MemoryBranches}" +
        (FeatureMemory == "none" ? "" : $", feature memory {FeatureMemory}") + (AffineHead ? ", affine head)" : ")");
}
