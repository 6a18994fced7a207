using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Data.Synthesis;

/// <summary>
/// One synthetic degradation: its name (and the other spellings accepted), the dataset layout `synth` writes for it,
/// the border (px per side) its clean crop must carry beyond the output size, and the function, image in and pair
/// out, deterministic for the state of the <see cref="SynthRng"/> passed (the same bits on every machine).
/// </summary>
public sealed record Degradation(string Name, string[] Aliases, DatasetLayout Layout, int Margin, string Description,
    Func<RgbImage, SynthRng, BlurKernelBank?, DegradedPair> Function)
{
    /// <param name="kernels">Measured blur kernels that blur may draw from (null: trajectories and warps only).</param>
    public DegradedPair Apply(RgbImage clean, SynthRng rng, BlurKernelBank? kernels = null) =>
        Function(clean, rng, kernels);

    /// <summary>
    /// Tensor form: clean (1,3,H,W) or (3,H,W) in [0,1] → (input, target, mask or null) as (1,3,h,w), (1,3,h,w),
    /// (1,1,h,w); h = H − 2·<see cref="Margin"/> and w likewise (the border is cropped from both).
    /// </summary>
    public (Tensor Input, Tensor Target, Tensor? Mask, SynthParams Params) Apply(Tensor clean, SynthRng rng,
        BlurKernelBank? kernels = null)
    {
        var pair = Apply(RgbImage.FromTensor(clean), rng, kernels);
        Tensor? mask = pair.Mask is null ? null
            : tensor(pair.Mask, new long[] { 1, 1, pair.Input.Height, pair.Input.Width });
        return (pair.Input.ToTensor(), pair.Target.ToTensor(), mask, pair.Params);
    }

    /// <summary>Relative file names of item i in this degradation's layout: (input, target, mask or null).</summary>
    public (string Input, string Target, string? Mask) FileNames(int i) => Layout switch
    {
        DatasetLayout.Istd => ($"train_A/{i:D5}.png", $"train_C/{i:D5}.png", $"train_B/{i:D5}.png"),
        DatasetLayout.Raindrop => ($"data/{i:D5}_rain.png", $"gt/{i:D5}_clean.png", $"mask/{i:D5}_mask.png"),
        _ => ($"input/{i:D5}.png", $"target/{i:D5}.png", null),
    };

    public string LayoutName => Layout.ToString().ToLowerInvariant();
}

/// <summary>The degradations `synth` and `train --synth` know: one declarative list.</summary>
public static class Degradations
{
    public static readonly Degradation Rain = new("rain", [], DatasetLayout.Paired, 0,
        "rain streaks, a family: fine parallel streaks (Rain100L-like) or 1-3 layers with veils",
        (c, r, _) => RainSynth.Rain(c, r));
    public static readonly Degradation HeavyRain = new("heavy-rain", ["heavyrain"], DatasetLayout.Paired, 0,
        "the Rain100H recipe: 2-5 streak layers and a veil", (c, r, _) => RainSynth.HeavyRain(c, r));
    public static readonly Degradation Raindrop = new("raindrop", ["raindrops"], DatasetLayout.Raindrop, 0,
        "raindrops on glass, defocused, with masks", (c, r, _) => RaindropSynth.Apply(c, r));
    public static readonly Degradation Shadow = new("shadow", [], DatasetLayout.Istd, 0,
        "cast shadows of many occluders (ISTD triplets)", (c, r, _) => ShadowSynth.Apply(c, r));
    public static readonly Degradation Blur = new("blur", [], DatasetLayout.Paired, BlurSynth.Margin,
        "motion blur: warps, trajectories, measured kernels; noise, JPEG", (c, r, k) => BlurSynth.Apply(c, r, k));

    public static readonly IReadOnlyList<Degradation> All = [Rain, HeavyRain, Raindrop, Shadow, Blur];

    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToArray();

    public static Degradation Parse(string name)
    {
        string n = name.Trim().ToLowerInvariant();
        return All.FirstOrDefault(d => d.Name == n || d.Aliases.Contains(n))
            ?? throw new UserInputException($"unknown degradation '{name}' (use {string.Join(", ", Names)})");
    }
}
