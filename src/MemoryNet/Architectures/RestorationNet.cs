using System.Text.Json.Nodes;
using MemoryNet.Memory;
using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Architectures;

/// <summary>
/// A restoration network of any family: (B, 3, H, W) in [0, 1] → the restored image first, then any further outputs
/// the family trains with (MPRNet's earlier stages). Inputs are padded by the caller to
/// <see cref="NetSpec.SizeMultiple"/>. Inference, tiling, the memory budget, weights files, the trainer, bench and
/// serve use only this and <see cref="NetSpec"/>.
/// </summary>
public abstract class RestorationNet : nn.Module
{
    protected RestorationNet(string name, NetSpec spec) : base(name) { Spec = spec; }

    // one property for every family (TorchSharp's module.to() reads the members by name, so a family must not
    // redeclare it with its own type): families keep their typed spec in a field
    public NetSpec Spec { get; }

    /// <summary>The outputs (restored image first; each one is compared with the target by the training loss) and, for
    /// networks that have one, an auxiliary loss term (MemoryNet's feature-memory reconstruction).</summary>
    public abstract (Tensor[] Outputs, Tensor? Aux) ForwardWithAux(Tensor x);

    public Tensor[] forward(Tensor x)
    {
        var (outputs, aux) = ForwardWithAux(x);
        aux?.Dispose();
        return outputs;
    }

    /// <summary>The largest training patch <see cref="UseLocalStatistics"/> takes: the windows are found by a forward
    /// pass at that size, whose memory grows with it.</summary>
    public const int MaxTrainingPatch = 1024;

    /// <summary>
    /// The test-time local converter (<see cref="Modules.ChannelMean"/>): with <paramref name="trainingPatch"/>, every
    /// channel-attention mean is taken over the window that 1.5× that patch covers at its layer (found by one forward
    /// pass at the patch size); null restores the global means of training and of the reference code. The windows are
    /// state of the network's modules: every restorer sharing this network uses them.
    /// </summary>
    public void UseLocalStatistics(int? trainingPatch)
    {
        var means = modules().OfType<Modules.ChannelMean>().ToList();
        if (trainingPatch is not int patch)
        {
            foreach (var m in means) m.UseGlobal();
            return;
        }
        if (patch < 2 || patch > MaxTrainingPatch || patch % Spec.SizeMultiple != 0)
            throw new UserInputException($"the training patch must be a multiple of {Spec.SizeMultiple} for " +
                $"{Spec.Name}, from {Spec.SizeMultiple} to {MaxTrainingPatch} pixels (got {patch})");
        foreach (var m in means) m.Calibrate(patch * 3 / 2, patch);
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var p = parameters().First();
            forward(zeros(1, 3, patch, patch, dtype: p.dtype));
        }
        catch
        {
            foreach (var m in means) m.UseGlobal(); // no module may stay waiting to calibrate on a real image
            throw;
        }
    }

    /// <summary>The input-level memory that two-phase training fits first, when the network has one.</summary>
    public virtual MemModule? Memory => null;

    /// <summary>Whether the child module <paramref name="name"/> stays fp32 when the rest runs in bf16 (softmax
    /// addressing over prototypes, say).</summary>
    public virtual bool KeepsFp32(string name) => false;
}

/// <summary>
/// The hyper-parameters that define one network of a family: enough to build it, describe it, size its inputs and
/// estimate its memory, and stored as JSON in a weights file's metadata.
/// </summary>
public abstract record NetSpec(string Name)
{
    public abstract IArchitecture Architecture { get; }

    /// <summary>Height and width of an input must be multiples of this (inference pads bottom/right).</summary>
    public abstract int SizeMultiple { get; }

    /// <summary>Peak activation bytes per padded input pixel of one forward pass (inference, fp32): the memory budget's
    /// slope.</summary>
    public abstract double ActivationBytesPerPixel { get; }

    public abstract string Describe();

    /// <summary>The metadata form: the family's name under "family" and every hyper-parameter.</summary>
    public abstract JsonObject ToJson();

    public abstract RestorationNet Build();

    /// <summary>The preset with the same numbers, so that a custom-named spec reports a known name when it is
    /// one.</summary>
    public NetSpec Canonical() => Architecture.Presets.FirstOrDefault(p => p with { Name = Name } == this) ?? this;
}

/// <summary>
/// A family of networks (the spandrel pattern): its presets, how to recognise its state_dict and read the
/// hyper-parameters off tensor shapes, and how to read its metadata back. One line in <see cref="ArchRegistry.All"/>.
/// </summary>
public interface IArchitecture
{
    /// <summary>The family's name, written as "family" in the metadata.</summary>
    string Family { get; }

    IReadOnlyList<NetSpec> Presets { get; }

    /// <summary>Whether a state_dict (keys without 'module.') belongs to this family.</summary>
    bool Recognises(IReadOnlyDictionary<string, Tensor> stateDict);

    /// <summary>The hyper-parameters, read off tensor shapes; a missing key is a <see cref="UserInputException"/>
    /// naming <paramref name="path"/>.</summary>
    NetSpec Infer(IReadOnlyDictionary<string, Tensor> stateDict, string path);

    NetSpec FromJson(JsonObject arch);
}
