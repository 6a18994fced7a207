using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Architectures.NafNet;

/// <summary>
/// NAFNet (Chen, Chu, Zhang, Sun: "Simple Baselines for Image Restoration", ECCV 2022): a U-Net of NAFBlocks, no
/// nonlinear activation functions. Keys and shapes as in megvii-research/NAFNet (basicsr/models/archs/NAFNet_arch.py),
/// so its published checkpoints load. Input (B, 3, H, W) in [0, 1]; zero-padded bottom/right to a multiple of
/// 2^levels as the reference does, output = ending(features) + input, cropped back. One output: the restored image.
/// </summary>
public sealed class NafNetModel : RestorationNet
{
    // declaration order is the reference's registration order (intro, ending, encoders, decoders, middle, ups, downs)
    private readonly Conv intro, ending;
    private readonly ModuleList<Sequential> encoders, decoders;
    private readonly Sequential middle_blks;
    private readonly ModuleList<Sequential> ups;
    private readonly ModuleList<Conv> downs;
    private readonly int padder;

    public NafNetModel(NafNetSpec spec) : base(nameof(NafNetModel), spec)
    {
        long c = spec.Width;
        intro = new Conv(spec.ImgChannels, c, 3, bias: true);
        ending = new Conv(c, spec.ImgChannels, 3, bias: true);
        encoders = new ModuleList<Sequential>();
        downs = new ModuleList<Conv>();
        foreach (int n in spec.EncBlocks)
        {
            encoders.Add(Blocks(n, c));
            downs.Add(new Conv(c, 2 * c, 2, bias: true, stride: 2, padding: 0));
            c *= 2;
        }
        middle_blks = Blocks(spec.MiddleBlocks, c);
        ups = new ModuleList<Sequential>();
        decoders = new ModuleList<Sequential>();
        foreach (int n in spec.DecBlocks)
        {
            // 1×1 to twice the channels, then PixelShuffle(2): a quarter of them at twice the resolution
            ups.Add(nn.Sequential(("0", new Pointwise(c, 2 * c)), ("1", nn.PixelShuffle(2))));
            c /= 2;
            decoders.Add(Blocks(n, c));
        }
        padder = 1 << spec.EncBlocks.Count;
        RegisterComponents();
    }

    static Sequential Blocks(int count, long channels) =>
        nn.Sequential(Enumerable.Range(0, count)
            .Select(i => (i.ToString(), (nn.Module<Tensor, Tensor>)new NafBlock(channels))).ToArray());

    public override (Tensor[] Outputs, Tensor? Aux) ForwardWithAux(Tensor input)
    {
        using var scope = NewDisposeScope();
        long h = input.shape[2], w = input.shape[3];
        long padH = (padder - h % padder) % padder, padW = (padder - w % padder) % padder;
        var inp = padH + padW == 0 ? input.alias() : nn.functional.pad(input, [0, padW, 0, padH]);
        inp = ChannelsLast.Of(inp.to(intro.Weight.dtype)); // bf16: the whole network runs in the weights' type
        var x = intro.forward(inp);
        var skips = new Tensor[encoders.Count];
        for (int i = 0; i < encoders.Count; i++)
        {
            skips[i] = encoders[i].forward(x);
            x = downs[i].forward(skips[i]);
        }
        x = middle_blks.forward(x);
        for (int i = 0; i < decoders.Count; i++)
        {
            x = ups[i].forward(x).Plus(skips[^(i + 1)]);
            x = decoders[i].forward(x);
        }
        var restored = ending.forward(x).Plus(inp);
        if (padH + padW > 0) restored = restored[.., .., ..(int)h, ..(int)w];
        return ([restored.MoveToOuterDisposeScope()], null);
    }
}

/// <summary>
/// The NAF block: x + β·conv3(SCA(SimpleGate(dwconv3×3(conv1(LN(x)))))), then y +
/// γ·conv5(SimpleGate(conv4(LN(y)))). SimpleGate halves the channels by multiplying the two halves (in place of an
/// activation function); the simplified channel attention (SCA) scales each channel by a 1×1 convolution of its global
/// mean (a local one under TLC, <see cref="ChannelMean"/>). β and γ start at zero (the block starts as the identity).
/// </summary>
public sealed class NafBlock : nn.Module<Tensor, Tensor>
{
    private readonly Parameter beta, gamma;
    private readonly Pointwise conv1;
    private readonly Conv conv2;
    private readonly Pointwise conv3;
    private readonly Sequential sca;
    private readonly Pointwise conv4, conv5;
    private readonly LayerNorm2d norm1, norm2;

    public NafBlock(long c) : base(nameof(NafBlock))
    {
        beta = nn.Parameter(zeros(1, c, 1, 1));
        gamma = nn.Parameter(zeros(1, c, 1, 1));
        conv1 = new Pointwise(c, 2 * c, bias: true);
        conv2 = new Conv(2 * c, 2 * c, 3, bias: true, groups: 2 * c);
        conv3 = new Pointwise(c, c, bias: true);
        sca = nn.Sequential(("0", new ChannelMean()), ("1", new Pointwise(c, c, bias: true)));
        conv4 = new Pointwise(c, 2 * c, bias: true);
        conv5 = new Pointwise(c, c, bias: true);
        norm1 = new LayerNorm2d(c);
        norm2 = new LayerNorm2d(c);
        RegisterComponents();
    }

    static Tensor SimpleGate(Tensor x)
    {
        var halves = x.chunk(2, 1);
        return halves[0] * halves[1];
    }

    public override Tensor forward(Tensor inp)
    {
        using var scope = NewDisposeScope();
        var x = SimpleGate(conv2.forward(conv1.forward(norm1.forward(inp))));
        x = x * sca.forward(x);
        var y = inp.Plus(conv3.forward(x) * beta);
        x = SimpleGate(conv4.forward(norm2.forward(y)));
        return y.Plus(conv5.forward(x) * gamma).MoveToOuterDisposeScope();
    }
}

/// <summary>Layer normalisation over the channels of each pixel (NAFNet's LayerNorm2d: biased variance, ε =
/// 1e-6).</summary>
public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight, bias;
    private readonly long channels;

    public LayerNorm2d(long channels) : base(nameof(LayerNorm2d))
    {
        this.channels = channels;
        weight = nn.Parameter(ones(channels));
        bias = nn.Parameter(zeros(channels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // (N, C, H, W) with NHWC strides → (N, H, W, C) rows, a view; normalised over the last dimension
        using var rows = x.permute(0, 2, 3, 1);
        using var y = nn.functional.layer_norm(rows, [channels], weight, bias, 1e-6);
        return y.permute(0, 3, 1, 2);
    }
}
