using MemoryNet.Imaging;
using static TorchSharp.torch;

namespace MemoryNet.Inference;

/// <summary>Restores decoded images: grey is replicated to RGB and written back grey, alpha is kept, size is preserved.</summary>
public static class ImageRestorer
{
    public static ImageData Restore(Restorer restorer, ImageData image, int bits)
    {
        using var scope = NewDisposeScope();
        using var input = image.ToTensor();
        using var output = restorer.Restore(input);
        return ImageData.FromTensor(output, bits, image.Alpha(), grey: image.Channels == 1);
    }
}
