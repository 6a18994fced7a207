using MemoryNet.Architectures;
using MemoryNet.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Inference;

public enum Precision { Fp32, Bf16 }

/// <summary>Test-time self-ensemble: which flips/rotations of the input are restored, mapped back and averaged.
/// </summary>
public enum SelfEnsemble
{
    /// <summary>One pass.</summary>
    None,
    /// <summary>The identity, both mirrors and the half turn (4 passes): half the time of <see cref="X8"/>, and no
    /// quarter turn, so what is vertical stays vertical (for a network trained without rotated crops).</summary>
    Flips,
    /// <summary>All 8 flips/rotations (EDSR's "+", BasicSR's x8 test).</summary>
    X8,
}

/// <summary>
/// Runs a network on images of any size: reflect-pads bottom/right to the multiple its architecture needs (as the
/// MemoryNet demo does; replicate where the image is too small to reflect), runs in inference mode, keeps the first
/// output (the restored image), crops back, clamps to [0, 1].
/// </summary>
public sealed class Restorer
{
    public RestorationNet Model { get; }
    public Precision Precision { get; }

    /// <summary>Geometric self-ensemble: each pass costs one restoration (docs/bundled-models.md has the gains).
    /// </summary>
    public SelfEnsemble Ensemble { get; init; }

    /// <summary>The <see cref="Dihedral"/> elements an ensemble runs: the half turn is 2, the left-right mirror 4,
    /// the up-down mirror 6 (mirror, then half turn).</summary>
    public static IReadOnlyList<int> Transforms(SelfEnsemble ensemble) => ensemble switch
    {
        SelfEnsemble.None => [0],
        SelfEnsemble.Flips => [0, 2, 4, 6],
        _ => [0, 1, 2, 3, 4, 5, 6, 7],
    };

    /// <summary>The name <see cref="ParseEnsemble"/> reads: none, flips or x8.</summary>
    public static string EnsembleName(SelfEnsemble ensemble) => ensemble switch
    {
        SelfEnsemble.None => "none",
        SelfEnsemble.Flips => "flips",
        _ => "x8",
    };

    /// <summary>Parses none, flips or x8 (any case); null for anything else.</summary>
    public static SelfEnsemble? ParseEnsemble(string value) => value.ToLowerInvariant() switch
    {
        "none" => SelfEnsemble.None,
        "flips" => SelfEnsemble.Flips,
        "x8" => SelfEnsemble.X8,
        _ => null,
    };

    /// <summary>Prepares <paramref name="model"/> for inference: eval mode and, in place, the precision asked for and
    /// channels-last weights. <paramref name="prepareWeights"/> false leaves the weights as they are (validation during
    /// training: the optimizer's state keeps the layout of the parameters it was made for).</summary>
    public Restorer(RestorationNet model, Precision precision = Precision.Fp32, bool prepareWeights = true)
    {
        Model = model;
        Precision = precision;
        model.eval();
        if (prepareWeights)
            ModelLayout.Apply(model, precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32);
        else if (precision != Precision.Fp32)
            throw new ArgumentException("bf16 needs the weights prepared", nameof(prepareWeights));
    }

    Restorer(Restorer other, SelfEnsemble ensemble)
    {
        Model = other.Model;
        Precision = other.Precision;
        Ensemble = ensemble;
    }

    /// <summary>This restorer's network and precision with another self-ensemble (the weights are shared, not
    /// prepared again): a server holds one restorer per model and each request chooses its ensemble.</summary>
    public Restorer WithEnsemble(SelfEnsemble ensemble) => ensemble == Ensemble ? this : new Restorer(this, ensemble);

    /// <summary>Restores a (B, 3, H, W) batch in [0, 1]; returns a new tensor the caller owns.</summary>
    public Tensor Restore(Tensor input)
    {
        if (Ensemble == SelfEnsemble.None) return RestoreOnce(input);
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        var transforms = Transforms(Ensemble);
        foreach (int k in transforms)
        {
            using var inner = NewDisposeScope();
            var y = Dihedral(RestoreOnce(Dihedral(input, k, inverse: false)), k, inverse: true);
            sum = sum is null ? y.contiguous().MoveToOuterDisposeScope() : sum.add_(y, ScalarOps.One);
        }
        return sum!.DivK_(transforms.Count).MoveToOuterDisposeScope();
    }

    /// <summary>Element k of the 8 flips/rotations of the image plane (k ≥ 4: mirrored, then k mod 4 quarter turns),
    /// or its inverse.</summary>
    public static Tensor Dihedral(Tensor x, int k, bool inverse)
    {
        int turns = k % 4;
        bool mirror = k >= 4;
        if (!inverse)
        {
            var m = mirror ? x.flip(3) : x.alias();
            return turns == 0 ? m : m.rot90(turns, (2, 3));
        }
        var r = turns == 0 ? x.alias() : x.rot90(-turns, (2, 3));
        return mirror ? r.flip(3) : r;
    }

    Tensor RestoreOnce(Tensor input)
    {
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        long h = input.shape[2], w = input.shape[3];
        var x = ChannelsLast.Of(PadToMultiple(input.to(float32), Model.Spec.SizeMultiple));
        var outputs = Model.forward(x);
        var restored = outputs[0][.., .., ..(int)h, ..(int)w].to(float32).ClampK(0, 1).contiguous();
        return restored.MoveToOuterDisposeScope();
    }

    /// <summary>Pads bottom and right to a multiple of <paramref name="m"/> (nothing when already one).</summary>
    public static Tensor PadToMultiple(Tensor x, int m)
    {
        long h = x.shape[2], w = x.shape[3];
        long padH = h % m == 0 ? 0 : m - h % m, padW = w % m == 0 ? 0 : m - w % m;
        if (padH == 0 && padW == 0) return x.alias();
        // reflect needs pad < size; tiny images fall back to edge replication
        var mode = padH < h && padW < w ? PaddingModes.Reflect : PaddingModes.Replicate;
        return nn.functional.pad(x, [0, padW, 0, padH], mode);
    }
}
