using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Modules;

/// <summary>Original-resolution subnetwork (stage 3): three ORBs at width n+o; after ORB k it adds 1×1-projected
/// encoder and decoder features of level k, brought to full resolution with UpSample chains.</summary>
public sealed class ORSNet : nn.Module
{
    private readonly ORB orb1, orb2, orb3;
    private readonly UpSample up_enc1, up_dec1;
    private readonly Sequential up_enc2, up_dec2;
    private readonly Conv2d conv_enc1, conv_enc2, conv_enc3, conv_dec1, conv_dec2, conv_dec3;

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
        conv_enc1 = nn.Conv2d(n, width, 1, bias: false);
        conv_enc2 = nn.Conv2d(n, width, 1, bias: false);
        conv_enc3 = nn.Conv2d(n, width, 1, bias: false);
        conv_dec1 = nn.Conv2d(n, width, 1, bias: false);
        conv_dec2 = nn.Conv2d(n, width, 1, bias: false);
        conv_dec3 = nn.Conv2d(n, width, 1, bias: false);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor[] encoderOuts, Tensor[] decoderOuts)
    {
        using var scope = NewDisposeScope();
        x = orb1.forward(x) + conv_enc1.forward(encoderOuts[0]) + conv_dec1.forward(decoderOuts[0]);
        x = orb2.forward(x) + conv_enc2.forward(up_enc1.forward(encoderOuts[1])) + conv_dec2.forward(up_dec1.forward(decoderOuts[1]));
        x = orb3.forward(x) + conv_enc3.forward(up_enc2.forward(encoderOuts[2])) + conv_dec3.forward(up_dec2.forward(decoderOuts[2]));
        return x.MoveToOuterDisposeScope();
    }
}
