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
        using var fy = Spectrum(y);
        return AgainstSpectrum(x, fy);
    }

    /// <summary>The loss against a target spectrum made once by <see cref="Spectrum"/> (several stage outputs share
    /// one target).</summary>
    public static Tensor AgainstSpectrum(Tensor x, Tensor targetSpectrum)
    {
        using var scope = NewDisposeScope();
        return nn.functional.l1_loss(Spectrum(x), targetSpectrum).MoveToOuterDisposeScope();
    }

    /// <summary>The orthonormal real 2-D FFT over the last two dimensions, as real and imaginary parts.</summary>
    public static Tensor Spectrum(Tensor img)
    {
        using var scope = NewDisposeScope();
        return view_as_real(fft.rfft2(img.contiguous(), norm: FFTNormType.Ortho)).MoveToOuterDisposeScope();
    }
}
