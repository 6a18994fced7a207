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
        var ensemble = new Restorer(model) { SelfEnsemble = true };
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
}
