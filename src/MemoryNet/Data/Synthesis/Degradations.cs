using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Data.Synthesis;

public enum DegradationKind { Rain, HeavyRain, Raindrop, Shadow, Blur }

/// <summary>
/// The degradations as functions, image (or tensor) in, pair out; deterministic for the state of the
/// <see cref="SynthRng"/> passed (the same bits on every machine). Training can call these on the fly.
/// </summary>
public static class Degradations
{
    public static readonly IReadOnlyList<string> Names = ["rain", "heavy-rain", "raindrop", "shadow", "blur"];

    public static DegradationKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "rain" => DegradationKind.Rain,
        "heavy-rain" or "heavyrain" => DegradationKind.HeavyRain,
        "raindrop" or "raindrops" => DegradationKind.Raindrop,
        "shadow" => DegradationKind.Shadow,
        "blur" => DegradationKind.Blur,
        _ => throw new UserInputException($"unknown --kind '{name}' (use {string.Join(", ", Names)})"),
    };

    public static string Name(DegradationKind k) => Names[(int)k];

    /// <summary>Border (px per side) the clean crop must carry beyond the output size.</summary>
    public static int Margin(DegradationKind k) => k == DegradationKind.Blur ? BlurSynth.Margin : 0;

    /// <param name="kernels">Measured blur kernels that blur may draw from (null: trajectories and warps only).</param>
    public static DegradedPair Apply(DegradationKind kind, RgbImage clean, SynthRng rng, BlurKernelBank? kernels = null) => kind switch
    {
        DegradationKind.Rain => RainSynth.Rain(clean, rng),
        DegradationKind.HeavyRain => RainSynth.HeavyRain(clean, rng),
        DegradationKind.Raindrop => RaindropSynth.Apply(clean, rng),
        DegradationKind.Shadow => ShadowSynth.Apply(clean, rng),
        DegradationKind.Blur => BlurSynth.Apply(clean, rng, kernels),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Tensor form: clean (1,3,H,W) or (3,H,W) in [0,1] → (input, target, mask or null) as (1,3,h,w), (1,3,h,w),
    /// (1,1,h,w). For blur h = H − 2·32 and w = W − 2·32 (the kernel border is cropped from both).
    /// </summary>
    public static (Tensor Input, Tensor Target, Tensor? Mask, SynthParams Params) Apply(DegradationKind kind, Tensor clean, SynthRng rng)
    {
        var pair = Apply(kind, RgbImage.FromTensor(clean), rng);
        Tensor? mask = pair.Mask is null ? null : tensor(pair.Mask, new long[] { 1, 1, pair.Input.Height, pair.Input.Width });
        return (pair.Input.ToTensor(), pair.Target.ToTensor(), mask, pair.Params);
    }

    public static (Tensor Input, Tensor Target, Tensor? Mask, SynthParams Params) Rain(Tensor clean, SynthRng rng) => Apply(DegradationKind.Rain, clean, rng);
    public static (Tensor Input, Tensor Target, Tensor? Mask, SynthParams Params) HeavyRain(Tensor clean, SynthRng rng) => Apply(DegradationKind.HeavyRain, clean, rng);
    public static (Tensor Input, Tensor Target, Tensor? Mask, SynthParams Params) Raindrop(Tensor clean, SynthRng rng) => Apply(DegradationKind.Raindrop, clean, rng);
    public static (Tensor Input, Tensor Target, Tensor? Mask, SynthParams Params) Shadow(Tensor clean, SynthRng rng) => Apply(DegradationKind.Shadow, clean, rng);
    public static (Tensor Input, Tensor Target, Tensor? Mask, SynthParams Params) Blur(Tensor clean, SynthRng rng) => Apply(DegradationKind.Blur, clean, rng);
}
