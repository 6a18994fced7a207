using MemoryNet.Architectures.Mpr;
using static TorchSharp.torch;

namespace MemoryNet.Tests;

public class StateDictKeyTests
{
    static List<(string Key, long[] Shape)> ReferenceKeys()
    {
        // the official model's state_dict keys and shapes (vendored from the project's reference notes: tests need no
        // ../shared)
        var path = TestPaths.Fixtures("Reference", "memorynet-state-dict.txt");
        return File.ReadLines(path)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l =>
            {
                int sp = l.IndexOf(' ');
                var shape = l[(sp + 1)..].Trim('(', ')', ' ')
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(long.Parse).ToArray();
                return (l[..sp], shape);
            }).ToList();
    }

    [Fact]
    public void MemoryNetStateDictMatchesTheReferenceKeysAndShapesInOrder()
    {
        using var model = new MemoryNetModel(ArchSpec.MemoryNet);
        var ours = MemoryNet.Weights.StateDict.Entries(model).Select(kv => (kv.Key, kv.Value.shape)).ToList();
        var reference = ReferenceKeys();
        Assert.Equal(321, reference.Count);
        Assert.Equal(reference.Select(r => r.Key), ours.Select(o => o.Key));
        for (int i = 0; i < reference.Count; i++)
            Assert.True(reference[i].Shape.SequenceEqual(ours[i].shape),
                $"{reference[i].Key}: expected ({string.Join(",", reference[i].Shape)}), got " +
                $"({string.Join(",", ours[i].shape)})");
    }

    [Fact]
    public void OnePReLUIsSharedByEveryCab()
    {
        using var model = new MemoryNetModel(ArchSpec.MemoryNet);
        var prelus = MemoryNet.Weights.StateDict.Entries(model).Where(kv => kv.Key.EndsWith("body.1.weight"))
            .Select(kv => kv.Value).ToList();
        Assert.Equal(55, prelus.Count);
        using (no_grad()) prelus[0].fill_(0.5);
        Assert.All(prelus, p => Assert.Equal(0.5f, p.item<float>()));
        // the optimiser must see it once: 3.64 M parameters in the reference count each tensor once
        long unique = model.parameters().Select(p => p.Handle).Distinct().Count();
        Assert.Equal(model.parameters().Count(), (int)unique);
    }

    [Fact]
    public void ParameterCountMatchesThePaper()
    {
        using var model = new MemoryNetModel(ArchSpec.MemoryNet);
        long count = model.parameters().Sum(p => p.numel());
        Assert.InRange(count, 3_630_000, 3_650_000);
    }
}
