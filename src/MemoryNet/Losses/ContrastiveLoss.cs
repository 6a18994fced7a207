using MemoryNet.Modules;
using MemoryNet.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>A frozen feature extractor: image (B, 3, H, W) in [0, 1] → feature maps with their weights.</summary>
public interface IFeatureExtractor : IDisposable
{
    IReadOnlyList<(Tensor Features, double Weight)> Extract(Tensor image);
}

/// <summary>
/// Contrastive regularisation (AECR-Net form): L = Σ_i w_i · |φ_i(R) − φ_i(Y)|₁ / (|φ_i(R) − φ_i(X)|₁ +
/// ε) with the restored image R as anchor, the clean target Y as positive and the degraded input X as negative.
/// </summary>
public sealed class ContrastiveLoss(IFeatureExtractor extractor) : IDisposable
{
    public const double Epsilon = 1e-7;

    /// <summary>"gradient-pyramid" (default; no download) or the path of a torchvision VGG19 state_dict
    /// (.pth).</summary>
    public static ContrastiveLoss Create(string features) =>
        new(features.Equals("gradient-pyramid", StringComparison.OrdinalIgnoreCase) ? new GradientPyramid()
            : Vgg19Features.Load(features));

    public Tensor Compute(Tensor restored, Tensor clean, Tensor degraded)
    {
        using var scope = NewDisposeScope();
        var r = extractor.Extract(restored);
        IReadOnlyList<(Tensor Features, double Weight)> y, x;
        using (no_grad()) { y = extractor.Extract(clean); x = extractor.Extract(degraded); }
        Tensor? total = null;
        for (int i = 0; i < r.Count; i++)
        {
            var pos = (r[i].Features - y[i].Features).abs().mean();
            var neg = (r[i].Features - x[i].Features).abs().mean();
            var term = (pos / neg.AddK(Epsilon)).MulK(r[i].Weight);
            total = total is null ? term : total.Plus(term);
        }
        return total!.MoveToOuterDisposeScope();
    }

    public void Dispose() => extractor.Dispose();
}

/// <summary>
/// The default extractor, needing no download: at three scales (×1, ×½, ×¼ by average pooling) the image and its
/// horizontal and vertical Sobel gradients per channel. Pulling these toward the clean image and away from the degraded
/// one penalises exactly what the degradations add (streaks, drop rims, shadow edges, smeared edges) at several sizes;
/// unlike VGG features it carries no ImageNet semantics, which the ablation (docs/ablation.md) measures.
/// </summary>
public sealed class GradientPyramid : IFeatureExtractor
{
    private readonly Tensor sobel;

    public GradientPyramid()
    {
        using var gx = tensor(new float[] { -1, 0, 1, -2, 0, 2, -1, 0, 1 }, [1, 1, 3, 3]);
        using var gy = gx.transpose(2, 3);
        using var both = cat([gx, gy], 0).DivK(8);   // (2, 1, 3, 3)
        sobel = both.repeat(3, 1, 1, 1).contiguous(); // depthwise over 3 channels → 6 maps
    }

    public IReadOnlyList<(Tensor Features, double Weight)> Extract(Tensor image)
    {
        var list = new List<(Tensor, double)>();
        var level = image;
        for (int i = 0; i < 3; i++)
        {
            if (i > 0) level = nn.functional.avg_pool2d(level, 2);
            var padded = nn.functional.pad(level, [1, 1, 1, 1], PaddingModes.Replicate);
            var grads = nn.functional.conv2d(padded, sobel.to(level.dtype), groups: 3);
            list.Add((cat([level, grads], 1), 1.0 / 3));
        }
        return list;
    }

    public void Dispose() => sobel.Dispose();
}

/// <summary>VGG19 features (relu1_1 … relu5_1, weights 1/32 … 1 as in AECR-Net) from a torchvision state_dict the
/// user supplies.</summary>
public sealed class Vgg19Features : nn.Module, IFeatureExtractor
{
    static readonly int[] ConvIndices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34];
    static readonly int[] Channels = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512];
    static readonly int[] TapAfterConv = [0, 2, 4, 8, 12];            // relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
    static readonly double[] TapWeights = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0];
    static readonly int[] PoolBefore = [2, 4, 8, 12];                  // max-pool before these convs
    private readonly ModuleList<Conv> convs = new();
    private readonly Tensor mean, std;

    Vgg19Features() : base(nameof(Vgg19Features))
    {
        int inC = 3;
        foreach (var c in Channels) { convs.Add(new Conv(inC, c, 3, bias: true)); inC = c; }
        mean = tensor(new float[] { 0.485f, 0.456f, 0.406f }, [1, 3, 1, 1]);
        std = tensor(new float[] { 0.229f, 0.224f, 0.225f }, [1, 3, 1, 1]);
        RegisterComponents();
    }

    public static Vgg19Features Load(string path)
    {
        using var ckpt = ModelFile.Read(path);
        var sd = ckpt.ByName();
        var vgg = new Vgg19Features();
        using (no_grad())
            for (int i = 0; i < ConvIndices.Length; i++)
            {
                string w = $"features.{ConvIndices[i]}.weight", b = $"features.{ConvIndices[i]}.bias";
                if (!sd.ContainsKey(w) || !sd.ContainsKey(b))
                    throw new UserInputException($"{path}: not a torchvision VGG19 state_dict (missing {w})");
                vgg.convs[i].Weight.copy_(sd[w]);
                vgg.convs[i].Bias!.copy_(sd[b]);
            }
        foreach (var p in vgg.parameters()) p.requires_grad = false;
        vgg.eval();
        return vgg;
    }

    public IReadOnlyList<(Tensor Features, double Weight)> Extract(Tensor image)
    {
        var list = new List<(Tensor, double)>();
        var x = (image - mean) / std;
        for (int i = 0, tap = 0; i < convs.Count && tap < TapAfterConv.Length; i++)
        {
            if (PoolBefore.Contains(i)) x = nn.functional.max_pool2d(x, 2);
            x = nn.functional.relu(convs[i].forward(x));
            if (i == TapAfterConv[tap]) list.Add((x, TapWeights[tap++]));
        }
        return list;
    }
}
