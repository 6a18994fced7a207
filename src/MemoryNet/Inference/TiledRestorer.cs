using MemoryNet.Imaging;
using static TorchSharp.torch;

namespace MemoryNet.Inference;

/// <summary>
/// Tiled inference: the image is covered by overlapping tiles (all of one size, so they can be batched), each tile is
/// restored on its own, and the results are blended with raised-cosine ramps across each overlap, normalised by the
/// sum of weights. The network is not exactly translation-invariant (stage 1 splits its input into quadrants, stage 2
/// into halves, convolutions zero-pad at tile edges), so a tile's border pixels differ from the whole-image result;
/// the ramps give those border pixels a weight near zero, which hides the seams.
/// Memory: the output is accumulated into preallocated float arrays (12 + 4 bytes per pixel); network activations are
/// those of one batch of tiles, freed (own dispose scope) before the next.
/// </summary>
public static class TiledRestorer
{
    /// <summary>
    /// Tile starts along one axis: first at 0, last at <paramref name="size"/> − <paramref name="tile"/>, evenly
    /// spaced so that neighbours overlap by at least <paramref name="overlap"/> pixels. One tile at 0 when the tile
    /// covers the axis.
    /// </summary>
    public static int[] Starts(int size, int tile, int overlap)
    {
        if (tile <= 0 || overlap < 0 || overlap >= tile)
            throw new ArgumentOutOfRangeException(nameof(overlap),
                $"need 0 ≤ overlap < tile (tile {tile}, overlap {overlap})");
        if (tile >= size) return [0];
        int stride = tile - overlap;
        int n = (int)Math.Ceiling((size - tile) / (double)stride) + 1;
        var s = new int[n];
        for (int i = 0; i < n; i++) s[i] = (int)Math.Round((double)i * (size - tile) / (n - 1));
        return s;
    }

    /// <summary>
    /// Weights along one axis for tile <paramref name="i"/> of length <paramref name="length"/>: a raised-cosine rise
    /// over the overlap with the previous tile, a fall over the overlap with the next one, 1 elsewhere (and at the
    /// image border). Where two ramps meet they sum to exactly 1; every weight is &gt; 0.
    /// </summary>
    public static float[] Weights(int[] starts, int i, int length)
    {
        var w = new float[length];
        Array.Fill(w, 1f);
        if (i > 0)
        {
            int o = Math.Min(starts[i - 1] + length - starts[i], length);
            for (int k = 0; k < o; k++) w[k] *= Rise(k, o);
        }
        if (i < starts.Length - 1)
        {
            int o = Math.Min(starts[i] + length - starts[i + 1], length);
            for (int k = 0; k < o; k++) w[length - 1 - k] *= Rise(k, o);
        }
        return w;
    }

    static float Rise(int k, int o) => (float)(0.5 - 0.5 * Math.Cos(Math.PI * (k + 0.5) / o));

    /// <summary>How many tiles of <paramref name="tile"/> (with <paramref name="overlap"/>) cover a width × height
    /// image.</summary>
    public static int TileCount(int width, int height, int tile, int overlap)
    {
        var (tw, th, ov) = Fit(width, height, tile, overlap);
        return Starts(width, tw, Math.Min(ov, tw - 1)).Length * Starts(height, th, Math.Min(ov, th - 1)).Length;
    }

    static (int Tw, int Th, int Overlap) Fit(int width, int height, int tile, int overlap)
    {
        if (tile < 8 || tile % 8 != 0)
            throw new UserInputException($"tile size must be a positive multiple of 8 (got {tile})");
        if (overlap < 0 || overlap > tile / 2)
            throw new UserInputException(
                $"tile overlap must be between 0 and half the tile ({tile / 2}) (got {overlap})");
        return (Math.Min(tile, width), Math.Min(tile, height), overlap);
    }

    /// <summary>
    /// Restores the colour part of <paramref name="image"/> tile by tile; returns interleaved RGB (H·W·3) in [0, 1].
    /// Grey is replicated to RGB and alpha ignored, as in <see cref="ImageData.ToTensor"/>.
    /// </summary>
    public static float[] RestoreRgb(Restorer restorer, ImageData image, int tile, int overlap, int batch = 1,
        Action<int, int>? progress = null)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch));
        int width = image.Width, height = image.Height, c = image.Channels;
        var (tw, th, ov) = Fit(width, height, tile, overlap);
        int[] xs = Starts(width, tw, Math.Min(ov, tw - 1)), ys = Starts(height, th, Math.Min(ov, th - 1));
        var wx = Enumerable.Range(0, xs.Length).Select(i => Weights(xs, i, tw)).ToArray();
        var wy = Enumerable.Range(0, ys.Length).Select(i => Weights(ys, i, th)).ToArray();
        var tiles = (from iy in Enumerable.Range(0, ys.Length)
                     from ix in Enumerable.Range(0, xs.Length)
                     select (iy, ix)).ToList();

        var acc = new float[(long)width * height * 3];
        var wsum = new float[(long)width * height];
        long plane = (long)th * tw;
        var inBuf = new float[Math.Min(batch, tiles.Count) * 3 * plane];
        var outBuf = new float[inBuf.Length];
        var px = image.Pixels;
        int done = 0;
        for (int start = 0; start < tiles.Count; start += batch)
        {
            int b = Math.Min(batch, tiles.Count - start);
            // gather: channel-first tiles from the interleaved image (grey → RGB)
            for (int j = 0; j < b; j++)
            {
                var (iy, ix) = tiles[start + j];
                int y0 = ys[iy], x0 = xs[ix];
                long baseOff = j * 3 * plane;
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++)
                    {
                        long s = ((long)(y0 + y) * width + x0 + x) * c, d = baseOff + (long)y * tw + x;
                        if (c == 1) { inBuf[d] = inBuf[d + plane] = inBuf[d + 2 * plane] = px[s]; }
                        else { inBuf[d] = px[s]; inBuf[d + plane] = px[s + 1]; inBuf[d + 2 * plane] = px[s + 2]; }
                    }
            }
            using (var scope = NewDisposeScope())
            {
                long n = b * 3 * plane;
                // a full batch uses the buffer as is (no per-tile garbage on the large-object heap)
                var input = tensor(n == inBuf.Length ? inBuf : inBuf.AsSpan(0, (int)n).ToArray(),
                    new long[] { b, 3, th, tw });
                var output = restorer.Restore(input).contiguous();
                using var data = output.data<float>();
                data.CopyTo(outBuf.AsSpan(0, (int)(b * 3 * plane)));
            }
            // scatter: weighted accumulation
            for (int j = 0; j < b; j++)
            {
                var (iy, ix) = tiles[start + j];
                int y0 = ys[iy], x0 = xs[ix];
                float[] rowW = wy[iy], colW = wx[ix];
                long baseOff = j * 3 * plane;
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++)
                    {
                        float wgt = rowW[y] * colW[x];
                        long p = (long)(y0 + y) * width + x0 + x, s = baseOff + (long)y * tw + x;
                        acc[p * 3] += wgt * outBuf[s];
                        acc[p * 3 + 1] += wgt * outBuf[s + plane];
                        acc[p * 3 + 2] += wgt * outBuf[s + 2 * plane];
                        wsum[p] += wgt;
                    }
            }
            NativeHeap.Trim();
            done += b;
            progress?.Invoke(done, tiles.Count);
        }
        for (long p = 0; p < wsum.Length; p++)
        {
            float inv = 1f / wsum[p];
            acc[p * 3] = Math.Clamp(acc[p * 3] * inv, 0f, 1f);
            acc[p * 3 + 1] = Math.Clamp(acc[p * 3 + 1] * inv, 0f, 1f);
            acc[p * 3 + 2] = Math.Clamp(acc[p * 3 + 2] * inv, 0f, 1f);
        }
        return acc;
    }
}
