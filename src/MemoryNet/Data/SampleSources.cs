using MemoryNet.Training;

namespace MemoryNet.Data;

/// <summary>The one place that turns training options into a sample source (a folder of pairs, or clean photos degraded
/// on the fly).</summary>
public static class SampleSources
{
    public static ISampleSource ForTraining(TrainOptions o)
    {
        if (o.Synth is not null)
            return SynthSource.Create(o.Synth, o.Clean!, o.SynthSize, o.SynthZoom, o.SynthGamma, o.SynthClean,
                o.SynthKernels);
        var items = PairedFolders.Read(o.Data!, PairedFolders.ParseLayout(o.Format), "train");
        PairedFolders.CheckSizes(items);
        return new PairedSource(items);
    }
}
