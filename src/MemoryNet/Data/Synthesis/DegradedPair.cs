namespace MemoryNet.Data.Synthesis;

/// <summary>
/// The result of one degradation: the degraded input, the ground truth (the clean crop, or for blur the
/// clean crop without the kernel border), an optional binary mask (H×W, 0/1), an optional soft matte or
/// alpha (H×W in [0, 1]), and the parameters drawn, for the manifest.
/// </summary>
public sealed record DegradedPair(RgbImage Input, RgbImage Target, float[]? Mask, float[]? Soft, SynthParams Params);
