using MemoryNet.Architectures.Mpr;
using MemoryNet.Architectures;
using MemoryNet.Inference;
using MemoryNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Inference;

public class AffineHeadTests
{
    static readonly ArchSpec Small = new("small", 8, 4, 4, 1, 0);

    static Checkpoint Saved(MemoryNetModel model, string name)
    {
        var path = Path.Combine(TestPaths.TempDir(), name);
        ModelFile.Save(model, path);
        return ModelFile.Read(path);
    }

    /// <summary>A random residual network and an affine-head one loaded from its weights, the tail widened by
    /// <paramref name="widen"/>.</summary>
    static (MemoryNetModel Residual, MemoryNetModel Affine) ResidualAndAffine(int seed,
        Func<Checkpoint, Checkpoint> widen)
    {
        torch.manual_seed(seed);
        var residual = new MemoryNetModel(Small);
        using var ckpt = Saved(residual, "residual.safetensors");
        var spec = Small with { Head = "affine" };
        var affine = new MemoryNetModel(spec);
        ModelFile.Apply(affine, widen(ckpt), spec);
        residual.eval();
        affine.eval();
        return (residual, affine);
    }

    [Fact]
    public void AResidualCheckpointWidenedToTheAffineHeadGivesTheSameOutputs()
    {
        var (residual, affine) = ResidualAndAffine(3, ModelFile.WithAffineTail);
        using var _r = residual;
        using var _a = affine;
        using var x = rand(1, 3, 32, 48);
        using var _ = no_grad();
        var a = residual.forward(x);
        var b = affine.forward(x);
        for (int i = 0; i < 3; i++) Assert.True((a[i] - b[i]).abs().max().item<float>() < 1e-6, $"stage {3 - i}");
    }

    [Fact]
    public void TheAffineHeadScalesTheInputByOnePlusGainAndAddsTheOffset()
    {
        // gain rows = offset rows = a residual model's tail: its residual r = y_residual − x gives y_affine = x(1 +
        // r) + r
        var (residual, affine) = ResidualAndAffine(5, ckpt => ckpt with
        {
            Tensors = ckpt.Tensors.Select(kv => kv.Key == "tail.weight"
                ? new KeyValuePair<string, Tensor>(kv.Key, cat([kv.Value, kv.Value], 0)) : kv).ToList(),
        });
        using var _r = residual;
        using var _a = affine;
        using var x = rand(1, 3, 32, 32);
        using var _ = no_grad();
        var r = residual.forward(x)[0] - x;
        Assert.True(r.abs().mean().item<float>() > 1e-3, "the test needs a non-zero residual");
        var expected = x * (1 + r) + r;
        Assert.True((affine.forward(x)[0] - expected).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void TheHeadIsReadBackFromMetadataAndFromShapes()
    {
        torch.manual_seed(4);
        var spec = Small with { Head = "affine" };
        using var model = new MemoryNetModel(spec);
        using var ckpt = Saved(model, "affine.safetensors");
        Assert.Equal("affine", ((ArchSpec)ModelFile.SpecOf(ckpt)).Head);
        Assert.Equal("affine", ((ArchSpec)ArchRegistry.Infer(ckpt.ByName(), ckpt.Path)).Head);
        Assert.Contains("affine head", ModelFile.SpecOf(ckpt).Describe());
        using var residual = new MemoryNetModel(Small);
        using var plain = Saved(residual, "plain.safetensors");
        Assert.Equal("residual", ((ArchSpec)ArchRegistry.Infer(plain.ByName(), plain.Path)).Head);
        // the affine file restores through the Restorer (padding, fp32 kernels) like any other
        using var loaded = ModelFile.Load(ckpt.Path);
        using var x = rand(1, 3, 21, 30);
        using var y = new Restorer(loaded, Precision.Fp32).Restore(x);
        Assert.Equal(x.shape, y.shape);
    }
}
