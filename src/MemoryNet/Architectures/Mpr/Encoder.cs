using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>U-Net encoder: three levels of two CABs (widths n, n+s, n+2s) with DownSample between.
/// With cross-stage feature fusion (stage 2), level i adds csff_enc_i(previous encoder) + csff_dec_i(previous
/// decoder).</summary>
public sealed class Encoder : nn.Module
{
    private readonly Sequential encoder_level1, encoder_level2, encoder_level3;
    private readonly DownSample down12, down23;
    private readonly Pointwise? csff_enc1, csff_enc2, csff_enc3, csff_dec1, csff_dec2, csff_dec3;

    public Encoder(ArchSpec spec, nn.Module<Tensor, Tensor> act, bool csff) : base(nameof(Encoder))
    {
        long n = spec.NFeat, s = spec.ScaleUnetFeats;
        encoder_level1 = CAB.Chain(2, n, spec, act);
        encoder_level2 = CAB.Chain(2, n + s, spec, act);
        encoder_level3 = CAB.Chain(2, n + 2 * s, spec, act);
        down12 = new DownSample(n, s);
        down23 = new DownSample(n + s, s);
        if (csff)
        {
            csff_enc1 = new Pointwise(n, n);
            csff_enc2 = new Pointwise(n + s, n + s);
            csff_enc3 = new Pointwise(n + 2 * s, n + 2 * s);
            csff_dec1 = new Pointwise(n, n);
            csff_dec2 = new Pointwise(n + s, n + s);
            csff_dec3 = new Pointwise(n + 2 * s, n + 2 * s);
        }
        RegisterComponents();
    }

    public Tensor[] forward(Tensor x, Tensor[]? encoderOuts = null, Tensor[]? decoderOuts = null)
    {
        using var scope = NewDisposeScope();
        bool fuse = encoderOuts is not null && decoderOuts is not null && csff_enc1 is not null;
        var enc1 = encoder_level1.forward(x);
        if (fuse) enc1 = enc1.Plus(csff_enc1!.forward(encoderOuts![0])).Plus(csff_dec1!.forward(decoderOuts![0]));
        var enc2 = encoder_level2.forward(down12.forward(enc1));
        if (fuse) enc2 = enc2.Plus(csff_enc2!.forward(encoderOuts![1])).Plus(csff_dec2!.forward(decoderOuts![1]));
        var enc3 = encoder_level3.forward(down23.forward(enc2));
        if (fuse) enc3 = enc3.Plus(csff_enc3!.forward(encoderOuts![2])).Plus(csff_dec3!.forward(decoderOuts![2]));
        return [enc1.MoveToOuterDisposeScope(), enc2.MoveToOuterDisposeScope(), enc3.MoveToOuterDisposeScope()];
    }
}
