using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>Bilinear ×0.5 then 1×1 conv c → c+s (the state_dict names the conv "down.1").</summary>
public sealed class DownSample : nn.Module<Tensor, Tensor>
{
    private readonly Sequential down;

    public DownSample(long inChannels, long sFactor) : base(nameof(DownSample))
    {
        down = nn.Sequential(("0", new Rescale(0.5)), ("1", new Pointwise(inChannels, inChannels + sFactor)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down.forward(x);
}

/// <summary>Bilinear ×2 then 1×1 conv c+s → c.</summary>
public sealed class UpSample : nn.Module<Tensor, Tensor>
{
    private readonly Sequential up;

    public UpSample(long inChannels, long sFactor) : base(nameof(UpSample))
    {
        up = nn.Sequential(("0", new Rescale(2.0)), ("1", new Pointwise(inChannels + sFactor, inChannels)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => up.forward(x);
}

/// <summary>UpSample, then add the skip connection.</summary>
public sealed class SkipUpSample : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential up;

    public SkipUpSample(long inChannels, long sFactor) : base(nameof(SkipUpSample))
    {
        up = nn.Sequential(("0", new Rescale(2.0)), ("1", new Pointwise(inChannels + sFactor, inChannels)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor skip)
    {
        using var upsampled = up.forward(x);
        return upsampled.Plus(skip);
    }
}

/// <summary>Parameter-free bilinear resize by a fixed factor (align_corners false), like nn.Upsample.</summary>
public sealed class Rescale(double scale) : nn.Module<Tensor, Tensor>(nameof(Rescale))
{
    public override Tensor forward(Tensor x) => Layers.Bilinear(x, scale);
}
