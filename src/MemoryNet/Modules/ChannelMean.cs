using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>
/// The per-channel mean that channel attention scales by: over the whole map (the reference networks'
/// AdaptiveAvgPool2d(1)), or, with the test-time local converter on, over a window around each pixel.
/// <para>
/// TLC (Chu, Chen, Zhang, Sun: "Improving Image Restoration by Revisiting Global Information Aggregation", ECCV 2022):
/// a network trained on patches learns channel statistics of a patch; on a whole photograph the global mean averages
/// far more, and different, content. Each mean is then taken over the window that 1.5× a training patch covers at
/// this layer's resolution, as megvii-research/NAFNet's local_arch does: the windows are found by one forward pass
/// at the training size (<see cref="Architectures.RestorationNet.UseLocalStatistics"/>), the box means come from a
/// summed-area table (stride 1, no padding) replicated out to the borders, and a map no larger than its window gets
/// the global mean. No parameters: the state_dict is the reference's.
/// </para>
/// </summary>
public sealed class ChannelMean : nn.Module<Tensor, Tensor>
{
    private (int Base, int Train)? calibrating;

    public ChannelMean() : base(nameof(ChannelMean)) { }

    /// <summary>The window (height, width) in this layer's pixels; null: the global mean.</summary>
    public (int H, int W)? Window { get; private set; }

    /// <summary>The next forward pass, at the training patch size <paramref name="trainPixels"/>, records the window:
    /// the size it sees × <paramref name="basePixels"/> / <paramref name="trainPixels"/> (integer division, as the
    /// reference).</summary>
    public void Calibrate(int basePixels, int trainPixels) { calibrating = (basePixels, trainPixels); Window = null; }

    public void UseGlobal() { calibrating = null; Window = null; }

    /// <summary>(N, C, 1, 1) global means, or (N, C, H, W) window means (channels-last), in <paramref name="x"/>'s
    /// type.</summary>
    public override Tensor forward(Tensor x)
    {
        long h = x.shape[2], w = x.shape[3];
        if (calibrating is var (basePixels, trainPixels))
        {
            Window = ((int)(h * basePixels / trainPixels), (int)(w * basePixels / trainPixels));
            calibrating = null;
        }
        return Window is var (kh, kw) && (kh < h || kw < w) ? Local(x, kh, kw) : Global(x);
    }

    /// <summary>The mean over the pixels. For a bf16 channels-last map it is a matrix product with a row of ones
    /// (oneDNN accumulates the bf16 products in fp32), ~5× faster here than libtorch's bf16 mean.</summary>
    public static Tensor Global(Tensor x)
    {
        if (x.dtype != ScalarType.BFloat16 || !ChannelsLast.Is(x)) return x.mean([2, 3], keepdim: true);
        long n = x.shape[0], c = x.shape[1], pixels = x.shape[2] * x.shape[3];
        using var rows = x.permute(0, 2, 3, 1).reshape(n, pixels, c);
        using var ones = torch.ones(n, 1, pixels, dtype: ScalarType.BFloat16);
        using var sum = ones.bmm(rows);
        return sum.view(n, c, 1, 1).DivK_(pixels);
    }

    /// <summary>The mean of each kh × kw box (clipped to the map), channels-last. Summed in fp32 about the global
    /// mean (a bf16 running sum would lose the box's low bits, and a large photo's raw running sum the fp32 ones);
    /// each full-size temporary is freed as soon as the next exists, so the peak is about three fp32 copies of
    /// <paramref name="x"/>.</summary>
    public static Tensor Local(Tensor x, int kh, int kw)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[2], w = x.shape[3];
        long k1 = Math.Min(h, kh), k2 = Math.Min(w, kw);
        long rows = h + 1 - k1, cols = w + 1 - k2;
        var x32 = x.to(ScalarType.Float32); // the scope frees it (for an fp32 map it is x itself)
        var global = x32.mean([2, 3], keepdim: true);
        Tensor box;
        using (var centred = x32.sub(global))
        using (var across = centred.cumsum(3))
        using (var down = across.cumsum(2))
        using (var s = nn.functional.pad(down, [1, 0, 1, 0])) // a zero first row and column: a box is four corners
        {
            box = s[.., .., (int)k1.., (int)k2..].sub(s[.., .., ..(int)rows, (int)k2..]);
            box.sub_(s[.., .., (int)k1.., ..(int)cols]).Plus_(s[.., .., ..(int)rows, ..(int)cols]);
        }
        box.DivK_(k1 * k2).Plus_(global);
        var mean = nn.functional.pad(box,
            [(w - cols) / 2, (w - cols + 1) / 2, (h - rows) / 2, (h - rows + 1) / 2], PaddingModes.Replicate);
        box.Dispose();
        return ChannelsLast.Of(mean.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
