using MemoryNet.Architectures.Mpr;
using MemoryNet.Inference;
using static TorchSharp.torch;

namespace MemoryNet.Tests.Inference;

public class SelfEnsembleTests
{
    [Fact]
    public void TheEightTransformsInvertAndAreDistinct()
    {
        using var x = rand(1, 3, 5, 7);
        static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().item<bool>();
        var seen = new List<Tensor>();
        for (int k = 0; k < 8; k++)
        {
            var t = Restorer.Dihedral(x, k, inverse: false);
            Assert.True(Same(Restorer.Dihedral(t, k, inverse: true), x));
            Assert.DoesNotContain(seen, s => Same(s, t));
            seen.Add(t);
        }
    }

    [Fact]
    public void TheEnsembleCommutesWithRotationsAndFlipsWhereOnePassDoesNot()
    {
        manual_seed(11);
        using var model = new MemoryNetModel(new ArchSpec("custom", 8, 4, 4, 1, 0));
        var single = new Restorer(model);
        var ensemble = new Restorer(model) { Ensemble = SelfEnsemble.X8 };
        using var x = rand(1, 3, 20, 36); // not a multiple of 8: each variant is padded on its own bottom/right
        using var e0 = ensemble.Restore(x);
        for (int k = 1; k < 8; k++)
        {
            using var tx = Restorer.Dihedral(x, k, inverse: false);
            using var a = Restorer.Dihedral(ensemble.Restore(tx), k, inverse: true);
            Assert.True((a - e0).abs().max().item<float>() < 1e-5, $"transform {k}");
        }
        using var t1 = Restorer.Dihedral(x, 1, inverse: false);
        using var s1 = Restorer.Dihedral(single.Restore(t1), 1, inverse: true);
        using var s0 = single.Restore(x);
        Assert.True((s1 - s0).abs().max().item<float>() > 1e-4,
            "a single pass of a random network is not rotation-equivariant");
        Assert.Equal(x.shape, e0.shape);
        Assert.True(e0.min().item<float>() >= 0 && e0.max().item<float>() <= 1);
    }

    [Fact]
    public void TheFlipsEnsembleCommutesWithMirrorsAndTheHalfTurnInFourPasses()
    {
        manual_seed(12);
        using var model = new MemoryNetModel(new ArchSpec("custom", 8, 4, 4, 1, 0));
        var flips = new Restorer(model) { Ensemble = SelfEnsemble.Flips };
        Assert.Equal(4, Restorer.Transforms(SelfEnsemble.Flips).Count);
        using var x = rand(1, 3, 20, 36);
        using var e0 = flips.Restore(x);
        foreach (int k in Restorer.Transforms(SelfEnsemble.Flips))
        {
            using var tx = Restorer.Dihedral(x, k, inverse: false);
            Assert.Equal(x.shape, tx.shape); // no quarter turn: the image keeps its orientation
            using var a = Restorer.Dihedral(flips.Restore(tx), k, inverse: true);
            Assert.True((a - e0).abs().max().item<float>() < 1e-5, $"transform {k}");
        }
        using var single = new Restorer(model).Restore(x);
        Assert.True((single - e0).abs().max().item<float>() > 1e-4, "four passes average to something new");
    }

    [Theory]
    [InlineData("none", SelfEnsemble.None)]
    [InlineData("FLIPS", SelfEnsemble.Flips)]
    [InlineData("x8", SelfEnsemble.X8)]
    [InlineData("x4", null)]
    public void EnsembleNamesParse(string name, SelfEnsemble? expected) =>
        Assert.Equal(expected, Restorer.ParseEnsemble(name));

    [Fact]
    public void Every_ensemble_s_name_parses_back_to_it()
    {
        foreach (var e in Enum.GetValues<SelfEnsemble>())
            Assert.Equal(e, Restorer.ParseEnsemble(Restorer.EnsembleName(e)));
        Assert.Equal("flips", Restorer.EnsembleName(SelfEnsemble.Flips));
    }
}
