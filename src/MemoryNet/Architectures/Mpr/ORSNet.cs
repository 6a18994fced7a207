using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>Original-resolution subnetwork (stage 3): three ORBs at width n+o; after ORB k it adds 1×1-projected
/// encoder and decoder features of level k, brought to full resolution with UpSample chains.</summary>
public sealed class ORSNet : nn.Module
{
    private readonly ORB orb1, orb2, orb3;
    private readonly UpSample up_enc1, up_dec1;
    private readonly Sequential up_enc2, up_dec2;
    private readonly Pointwise conv_enc1, conv_enc2, conv_enc3, conv_dec1, conv_dec2, conv_dec3;

    public ORSNet(ArchSpec spec, nn.Module<Tensor, Tensor> act) : base(nameof(ORSNet))
    {
        long n = spec.NFeat, s = spec.ScaleUnetFeats, width = spec.NFeat + spec.ScaleOrsnetFeats;
        orb1 = new ORB(width, spec, act);
        orb2 = new ORB(width, spec, act);
        orb3 = new ORB(width, spec, act);
        up_enc1 = new UpSample(n, s);
        up_dec1 = new UpSample(n, s);
        up_enc2 = nn.Sequential(("0", new UpSample(n + s, s)), ("1", new UpSample(n, s)));
        up_dec2 = nn.Sequential(("0", new UpSample(n + s, s)), ("1", new UpSample(n, s)));
        conv_enc1 = new Pointwise(n, width);
        conv_enc2 = new Pointwise(n, width);
        conv_enc3 = new Pointwise(n, width);
        conv_dec1 = new Pointwise(n, width);
        conv_dec2 = new Pointwise(n, width);
        conv_dec3 = new Pointwise(n, width);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor[] encoderOuts, Tensor[] decoderOuts)
    {
        using var scope = NewDisposeScope();
        // intermediates are freed as soon as they are summed: this subnetwork runs at full resolution and width n+o
        var x1 = Sum(Sum(orb1.forward(x), conv_enc1.forward(encoderOuts[0])), conv_dec1.forward(decoderOuts[0]));
        var x2 = Sum(Sum(orb2.forward(x1), Project(conv_enc2, up_enc1, encoderOuts[1])),
            Project(conv_dec2, up_dec1, decoderOuts[1]));
        x1.Dispose();
        x = Sum(Sum(orb3.forward(x2), Project(conv_enc3, up_enc2, encoderOuts[2])),
            Project(conv_dec3, up_dec2, decoderOuts[2]));
        x2.Dispose();
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>a + b, freeing both.</summary>
    static Tensor Sum(Tensor a, Tensor b)
    {
        var r = a.Plus(b);
        a.Dispose(); b.Dispose();
        return r;
    }

    /// <summary>conv(up(t)), freeing the up-sampled intermediate.</summary>
    static Tensor Project(Pointwise conv, nn.Module<Tensor, Tensor> up, Tensor t)
    {
        using var u = up.forward(t);
        return conv.forward(u);
    }
}
