using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>
/// Charbonnier loss between Laplacian images, lap(img) = img − G(up(down(G(img)))), where G is a depthwise 5×5
/// Gaussian from k = [.05, .25, .4, .25, .05] with replicate padding, down keeps every 2nd pixel and up puts
/// those (×4) back into zeros.
/// </summary>
public sealed class EdgeLoss : IDisposable
{
    private readonly Tensor kernel;

    public EdgeLoss(int channels = 3)
    {
        using var k = tensor(new float[] { 0.05f, 0.25f, 0.4f, 0.25f, 0.05f });
        using var outer = k.outer(k);
        kernel = outer.expand(channels, 1, 5, 5).contiguous();
    }

    Tensor Gauss(Tensor img)
    {
        using var padded = nn.functional.pad(img, [2, 2, 2, 2], PaddingModes.Replicate);
        return nn.functional.conv2d(padded, kernel.to(img.device).to(img.dtype), groups: img.shape[1]);
    }

    public Tensor Laplacian(Tensor img)
    {
        using var scope = NewDisposeScope();
        var filtered = Gauss(img);
        var upsampled = zeros_like(filtered);
        upsampled[.., .., TensorIndex.Slice(null, null, 2), TensorIndex.Slice(null, null, 2)] =
            filtered[.., .., TensorIndex.Slice(null, null, 2), TensorIndex.Slice(null, null, 2)].MulK(4);
        return (img - Gauss(upsampled)).MoveToOuterDisposeScope();
    }

    public Tensor Compute(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        return CharbonnierLoss.Compute(Laplacian(x), Laplacian(y)).MoveToOuterDisposeScope();
    }

    public void Dispose() => kernel.Dispose();
}
