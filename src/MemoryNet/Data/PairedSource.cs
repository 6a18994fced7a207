using MemoryNet.Data.Synthesis;
using MemoryNet.Imaging;

namespace MemoryNet.Data;

/// <summary>Training samples from a paired dataset on disk (any layout <see cref="PairedFolders"/> reads).</summary>
public sealed class PairedSource(IReadOnlyList<PairedItem> items) : ISampleSource
{
    public int Count => items.Count;

    public Patch Make(int index, int patchSize, SynthRng rng)
    {
        var item = items[index];
        var input = ImageCodec.Read(item.Input);
        var target = ImageCodec.Read(item.Target);
        var mask = item.Mask is null ? null : ImageCodec.Read(item.Mask);
        if (input.Width != target.Width || input.Height != target.Height)
            throw new UserInputException($"{item.Input}: {input.Width}x{input.Height} but its target {item.Target} " +
                $"is {target.Width}x{target.Height}");
        return PatchSampler.Sample(input, target, mask, patchSize, rng);
    }
}
