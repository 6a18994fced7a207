using MemoryNet.Architectures;
using MemoryNet.Memory;
using MemoryNet.Modules;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>
/// The three-stage restorer (MPRNet backbone) fed by the memory module. Input (B, 3, H, W) in [0, 1] with H and W
/// multiples of 8 (<see cref="Inference.Restorer"/> pads); output [stage3, stage2, stage1], stage3 being the restored
/// image. The four stage-1 quadrants and the two stage-2 halves go through their sub-networks as one batch
/// (every layer acts per sample, so this equals the reference's separate passes).
/// </summary>
public sealed class MemoryNetModel : RestorationNet
{
    private readonly MemModule? memory;
    private readonly Sequential shallow_feat1, shallow_feat2, shallow_feat3;
    // declaration order is state_dict order (as registered by the reference)
    private readonly Encoder stage1_encoder;
    private readonly Decoder stage1_decoder;
    private readonly Encoder stage2_encoder;
    private readonly Decoder stage2_decoder;
    private readonly ORSNet stage3_orsnet;
    private readonly SAM sam12, sam23;
    private readonly Conv concat12, concat23, tail;
    // the paper's feature-level memories (Fig. 3): one per stage-2 U-Net level, absent from the reference
    private readonly MemModule? fmem_enc1, fmem_enc2, fmem_enc3, fmem_dec1, fmem_dec2, fmem_dec3;

    private readonly ArchSpec arch;

    public MemoryNetModel(ArchSpec spec) : base(nameof(MemoryNetModel), spec)
    {
        arch = spec;
        long n = spec.NFeat, o = spec.ScaleOrsnetFeats, k = spec.KernelSize;
        if (spec.HasMemory) memory = new MemModule(spec.PttNum, spec.NumCls, spec.PartNum, 3);
        var act = nn.PReLU(1, 0.25); // one PReLU shared by every CAB, as in the reference
        Sequential Shallow() =>
            nn.Sequential(("0", Layers.Conv(3, n, k)), ("1", new CAB(n, k, spec.Reduction, false, act)));
        shallow_feat1 = Shallow();
        shallow_feat2 = Shallow();
        shallow_feat3 = Shallow();
        stage1_encoder = new Encoder(spec, act, csff: false);
        stage1_decoder = new Decoder(spec, act);
        stage2_encoder = new Encoder(spec, act, csff: true);
        stage2_decoder = new Decoder(spec, act);
        stage3_orsnet = new ORSNet(spec, act);
        sam12 = new SAM(n, 1, false);
        sam23 = new SAM(n, 1, false);
        concat12 = Layers.Conv(2 * n, n, k);
        concat23 = Layers.Conv(2 * n, n + o, k);
        tail = Layers.Conv(n + o, spec.AffineHead ? 6 : 3, k);
        long s = spec.ScaleUnetFeats;
        MemModule Mem(long width) => new(spec.PttNum, spec.NumCls, spec.PartNum, (int)width);
        if (spec.EncoderFeatureMemory) { fmem_enc1 = Mem(n); fmem_enc2 = Mem(n + s); fmem_enc3 = Mem(n + 2 * s); }
        if (spec.DecoderFeatureMemory) { fmem_dec1 = Mem(n); fmem_dec2 = Mem(n + s); fmem_dec3 = Mem(n + 2 * s); }
        RegisterComponents();
    }

    public override MemModule? Memory => memory;

    /// <summary>The memory modules address prototypes by a softmax with a 0.0025 shrink threshold: fp32 in bf16
    /// runs.</summary>
    public override bool KeepsFp32(string name) => name == "memory" || name.StartsWith("fmem_");

    /// <summary>The inputs of stages 1, 2 and 3: memory reads (part, instance, semantic) or the image itself.</summary>
    public (Tensor Stage1, Tensor Stage2, Tensor Stage3) StageInputs(Tensor x)
    {
        if (memory is null) return (x.alias(), x.alias(), x.alias());
        var (sem, ins, part) = memory.forward(x);
        int b = arch.MemoryBranches;
        var s3 = sem;
        var s2 = b >= 2 ? ins : x.alias();
        var s1 = b >= 3 ? part : x.alias();
        if (b < 2) ins.Dispose();
        if (b < 3) part.Dispose();
        return (s1, s2, s3);
    }

    /// <summary>
    /// Adds each feature-level memory's read to its features, f ← f + read(f) (read = mean of the hierarchical
    /// reads), and accumulates L_recon = mean over levels of mean |f − read(f)|: features are pulled toward the
    /// recorded prototypes and the prototypes toward the features.
    /// </summary>
    static Tensor[] ApplyFeatureMemory(Tensor[] feats, MemModule?[] memories, ref Tensor? recon)
    {
        if (memories[0] is null) return feats;
        var result = new Tensor[feats.Length];
        for (int i = 0; i < feats.Length; i++)
        {
            var read = memories[i]!.ReadMean(feats[i]);
            var term = (feats[i] - read).abs().mean().DivK(feats.Length);
            recon = recon is null ? term : recon.Plus(term);
            result[i] = feats[i].Plus(read);
        }
        return result;
    }

    /// <summary>The stage outputs [stage3, stage2, stage1] and, when the network has feature-level memories, their
    /// reconstruction loss.</summary>
    public override (Tensor[] Outputs, Tensor? Aux) ForwardWithAux(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor? recon = null;
        long height = x.shape[2], width = x.shape[3];
        if (height % 8 != 0 || width % 8 != 0)
            throw new ArgumentException($"input {height}x{width}: height and width must be multiples of 8 (pad first)");
        long h2 = height / 2, w2 = width / 2;
        x = ChannelsLast.Of(x); // see ChannelsLast: every convolution runs NHWC
        var (in1, in2, in3) = StageInputs(x);
        var backbone = concat12.Weight.dtype; // bf16 inference: memory reads in fp32, backbone in bf16
        if (in1.dtype != backbone) { in1 = in1.to(backbone); in2 = in2.to(backbone); in3 = in3.to(backbone); }

        // Stage 1: four quadrants [left-top, right-top, left-bottom, right-bottom] as one batch
        var quads = cat([in1[.., .., ..(int)h2, ..(int)w2], in1[.., .., ..(int)h2, (int)w2..],
                         in1[.., .., (int)h2.., ..(int)w2], in1[.., .., (int)h2.., (int)w2..]], 0);
        var shallow1 = shallow_feat1.forward(quads);
        var feat1 = stage1_encoder.forward(shallow1);
        shallow1.Dispose();
        // join left|right along width: halves [top, bottom] as one batch
        var feat1Halves = feat1.Select(f =>
        {
            var q = f.chunk(4, 0);
            return cat([cat([q[0], q[1]], 3), cat([q[2], q[3]], 3)], 0);
        }).ToArray();
        var res1 = stage1_decoder.forward(feat1Halves);
        var in2Halves = cat([in2[.., .., ..(int)h2, ..], in2[.., .., (int)h2.., ..]], 0);
        var (sam12Feats, stage1Halves) = sam12.forward(res1[0], in2Halves);
        var stage1 = cat(stage1Halves.chunk(2, 0), 2);

        // Stage 2: the two halves as one batch, with cross-stage fusion from stage 1; then stacked along height
        var shallow2 = shallow_feat2.forward(in2Halves);
        var joined12 = cat([shallow2, sam12Feats], 1);
        var x2 = concat12.forward(joined12);
        var feat2Halves = stage2_encoder.forward(x2, feat1Halves, res1);
        var feat2 = ApplyFeatureMemory(feat2Halves.Select(f => cat(f.chunk(2, 0), 2)).ToArray(),
            [fmem_enc1, fmem_enc2, fmem_enc3], ref recon);
        var res2 = ApplyFeatureMemory(stage2_decoder.forward(feat2), [fmem_dec1, fmem_dec2, fmem_dec3], ref recon);
        var (sam23Feats, stage2) = sam23.forward(res2[0], in3);

        // Stage 3 runs at full resolution and sets the peak: free what stages 1 and 2 leave behind first
        // (dropping a handle is safe under autograd, which keeps its own references to what backward needs)
        DisposeAll([quads, in2Halves, sam12Feats, stage1Halves, shallow2, joined12, x2, .. feat1, .. feat1Halves,
            .. res1, .. feat2Halves]);
        var shallow3 = shallow_feat3.forward(in3);
        var joined23 = cat([shallow3, sam23Feats], 1);
        var x3 = concat23.forward(joined23);
        DisposeAll([shallow3, joined23, sam23Feats]);
        var orsnet = stage3_orsnet.forward(x3, feat2, res2);
        x3.Dispose();
        var t = tail.forward(orsnet);
        // affine head: input ⊙ (1 + g) + b = (input + b) + input ⊙ g
        var stage3 = arch.AffineHead ? in3.Plus(t[.., 3..]).addcmul(in3, t[.., ..3], ScalarOps.One) : t.Plus(in3);

        Tensor[] stages = [stage3.MoveToOuterDisposeScope(), stage2.MoveToOuterDisposeScope(),
            stage1.MoveToOuterDisposeScope()];
        return (stages, recon?.MoveToOuterDisposeScope());
    }

    static void DisposeAll(Tensor[] tensors) { foreach (var t in tensors) t.Dispose(); }
}
