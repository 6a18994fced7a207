using MemoryNet.Imaging;
using static TorchSharp.torch;

namespace MemoryNet.Inference;

/// <summary>How to split images into tiles: a fixed tile size, or automatic under a memory budget.</summary>
/// <param name="Tile">Tile side in pixels (a multiple of 8); 0 = automatic: whole image when it fits
/// <paramref name="MaxMemoryBytes"/>, else the largest tile that does.</param>
/// <param name="Overlap">Pixels shared by neighbouring tiles, blended with raised-cosine weights.</param>
/// <param name="Batch">Tiles per forward pass.</param>
public sealed record TileSettings(int Tile = 0, int Overlap = 32, long MaxMemoryBytes = MemoryBudget.DefaultBytes,
    int Batch = 1)
{
    public static readonly TileSettings Whole = new(0, 0, long.MaxValue);

    /// <summary>The tile side to use for an image (0 = whole image).</summary>
    public int TileFor(Architectures.NetSpec spec, int width, int height) =>
        Tile > 0 ? Tile : MemoryBudget.ChooseTile(spec, width, height, MaxMemoryBytes, Batch);
}

/// <summary>Restores decoded images: grey is replicated to RGB and written back grey, alpha is kept, size is
/// preserved.</summary>
public static class ImageRestorer
{
    public static ImageData Restore(Restorer restorer, ImageData image, int bits) =>
        Restore(restorer, image, bits, TileSettings.Whole);

    public static ImageData Restore(Restorer restorer, ImageData image, int bits, TileSettings tiling,
        Action<int, int>? progress = null)
    {
        int tile = tiling.TileFor(restorer.Model.Spec, image.Width, image.Height);
        // a tile that covers the whole image is the whole image
        if (tile <= 0 || (tile >= image.Width && tile >= image.Height))
        {
            using var scope = NewDisposeScope();
            using var input = image.ToTensor();
            using var output = restorer.Restore(input);
            return ImageData.FromTensor(output, bits, image.Alpha(), grey: image.Channels == 1);
        }
        var rgb = TiledRestorer.RestoreRgb(restorer, image, tile, Math.Min(tiling.Overlap, tile / 2),
            tiling.Batch, progress);
        return ImageData.FromRgb(image.Width, image.Height, rgb, bits, image.Alpha(), grey: image.Channels == 1);
    }
}
