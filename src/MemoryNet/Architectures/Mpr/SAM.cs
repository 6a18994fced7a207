using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>Supervised attention module (1×1 convs): img = conv2(f) + x_img; out = conv1(f) ⊙ sigmoid(conv3(img)) +
/// f.</summary>
public sealed class SAM : nn.Module<Tensor, Tensor, (Tensor Features, Tensor Image)>
{
    private readonly nn.Module<Tensor, Tensor> conv1, conv2, conv3;

    public SAM(long nFeat, long kernelSize, bool bias) : base(nameof(SAM))
    {
        conv1 = Layers.ConvOrPointwise(nFeat, nFeat, kernelSize, bias);
        conv2 = Layers.ConvOrPointwise(nFeat, 3, kernelSize, bias);
        conv3 = Layers.ConvOrPointwise(3, nFeat, kernelSize, bias);
        RegisterComponents();
    }

    public override (Tensor Features, Tensor Image) forward(Tensor x, Tensor xImg)
    {
        using var scope = NewDisposeScope();
        var img = conv2.forward(x).Plus(xImg);
        var gate = conv3.forward(img).sigmoid();
        var features = (conv1.forward(x) * gate).Plus(x);
        return (features.MoveToOuterDisposeScope(), img.MoveToOuterDisposeScope());
    }
}
