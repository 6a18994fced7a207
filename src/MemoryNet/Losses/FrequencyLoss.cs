using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Losses;

/// <summary>
/// L1 distance between the spectra of output and target: the real 2-D FFT over height and width, real and imaginary
/// parts alike (the frequency reconstruction term of MIMO-UNet, Cho et al. ICCV 2021). A pixel loss lets a deblurring
/// network leave fine detail soft, since a slightly soft guess is close at every pixel; in the spectrum each missing
/// high frequency is an error term of its own. The transform is orthonormal, so the term has the scale of a pixel L1
/// whatever the patch size and its weight is its balance against the pixel term (MIMO-UNet's weight 0.1 on
/// unnormalised 256² spectra is about 25 here).
/// </summary>
public static class FrequencyLoss
{
    public static Tensor Compute(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var fx = view_as_real(fft.rfft2(x.contiguous(), norm: FFTNormType.Ortho));
        var fy = view_as_real(fft.rfft2(y.contiguous(), norm: FFTNormType.Ortho));
        return nn.functional.l1_loss(fx, fy).MoveToOuterDisposeScope();
    }
}
