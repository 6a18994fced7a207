using MemoryNet.Data;
using MemoryNet.Data.Synthesis;
using MemoryNet.Imaging;

namespace MemoryNet.Tests.Training;

/// <summary>Every registered degradation writes a dataset that its own layout reads back.</summary>
public class DegradationRegistryTests
{
    [Fact]
    public void Each_degradation_writes_a_dataset_its_layout_reads_back_and_parses_by_name_and_alias()
    {
        var photos = TestPaths.TempDir();
        int size = 48 + 2 * Degradations.All.Max(d => d.Margin);
        var px = new float[size * size * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (float)(0.5 + 0.3 * Math.Sin(0.37 * i));
        ImageCodec.Write(new ImageData(size, size, 3, 8, px), Path.Combine(photos, "p.png"));
        Assert.Equal(Degradations.All.Count, Degradations.Names.Distinct().Count());
        foreach (var d in Degradations.All)
        {
            Assert.Same(d, Degradations.Parse(d.Name.ToUpperInvariant()));
            foreach (var alias in d.Aliases) Assert.Same(d, Degradations.Parse(alias));
            var outDir = Path.Combine(TestPaths.TempDir(), d.Name);
            var report = SynthDataset.Run(new SynthOptions(d, photos, outDir, Count: 3, Size: 48, Seed: 1, Threads: 1));
            Assert.Equal(d.LayoutName, report.Layout);
            var items = PairedFolders.Read(outDir, d.Layout);
            Assert.Equal(3, items.Count);
            Assert.Equal(d.Layout == DatasetLayout.Istd, items.All(it => it.Mask is not null));
        }
        var ex = Assert.Throws<UserInputException>(() => Degradations.Parse("snow"));
        Assert.Contains("rain, heavy-rain", ex.Message);
    }
}
