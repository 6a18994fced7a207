using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>U-Net decoder: level 3 on enc3, then up-sample with attention-weighted skips to levels 2 and 1.
/// Returns [dec1, dec2, dec3].</summary>
public sealed class Decoder : nn.Module
{
    private readonly Sequential decoder_level1, decoder_level2, decoder_level3;
    private readonly CAB skip_attn1, skip_attn2;
    private readonly SkipUpSample up21, up32;

    public Decoder(ArchSpec spec, nn.Module<Tensor, Tensor> act) : base(nameof(Decoder))
    {
        long n = spec.NFeat, s = spec.ScaleUnetFeats;
        decoder_level1 = CAB.Chain(2, n, spec, act);
        decoder_level2 = CAB.Chain(2, n + s, spec, act);
        decoder_level3 = CAB.Chain(2, n + 2 * s, spec, act);
        skip_attn1 = new CAB(n, spec.KernelSize, spec.Reduction, false, act);
        skip_attn2 = new CAB(n + s, spec.KernelSize, spec.Reduction, false, act);
        up21 = new SkipUpSample(n, s);
        up32 = new SkipUpSample(n + s, s);
        RegisterComponents();
    }

    public Tensor[] forward(Tensor[] encoderOuts)
    {
        using var scope = NewDisposeScope();
        var dec3 = decoder_level3.forward(encoderOuts[2]);
        var dec2 = decoder_level2.forward(up32.forward(dec3, skip_attn2.forward(encoderOuts[1])));
        var dec1 = decoder_level1.forward(up21.forward(dec2, skip_attn1.forward(encoderOuts[0])));
        return [dec1.MoveToOuterDisposeScope(), dec2.MoveToOuterDisposeScope(), dec3.MoveToOuterDisposeScope()];
    }
}
