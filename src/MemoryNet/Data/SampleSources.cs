using MemoryNet.Training;

namespace MemoryNet.Data;

/// <summary>The one place that turns training options into a sample source (a folder of pairs, or clean photos degraded
/// on the fly).</summary>
public static class SampleSources
{
    public static ISampleSource ForTraining(DataOptions d)
    {
        if (d.Synth is not null)
            return SynthSource.Create(d.Synth, d.Clean!, d.SynthSize, d.SynthZoom, d.SynthGamma, d.SynthClean,
                d.SynthKernels);
        var items = PairedFolders.Read(d.Folder!, PairedFolders.ParseLayout(d.Format), "train");
        PairedFolders.CheckSizes(items);
        return new PairedSource(items);
    }
}
