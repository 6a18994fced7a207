using MemoryNet.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MemoryNet.Training;

/// <summary>
/// Adam with PyTorch's update (torch.optim.Adam: bias-corrected moments, ε added after the square root, weight decay
/// as an L2 term added to the gradient) over one flat buffer. Every parameter becomes a view into one fp32 vector and
/// its gradient a view into a second one, which backward accumulates into in place; a step is then a handful of vector
/// operations however many parameter tensors the network has. TorchSharp's Adam loops over the tensors (about ten
/// calls each, some 4,000 native calls per step for MemoryNet) and makes implicit Scalars on the way (see
/// <see cref="ScalarOps"/>). Gradients must be cleared with <see cref="ZeroGrad"/>, which zeroes in place: a module's
/// zero_grad would detach them from the buffer.
/// </summary>
public sealed class FlatAdam : IDisposable
{
    private readonly Tensor values, grads, expAvg, expAvgSq;
    private readonly IReadOnlyList<Parameter> parameters;

    private readonly long[] offsets, sizes, counts;

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    /// <summary>Updates done so far (the largest count over the parameters; the bias corrections depend on
    /// it).</summary>
    public long Steps => counts.Length == 0 ? 0 : counts.Max();
    public long Count => values.shape[0];
    /// <summary>All gradients as one vector (a view: clipping it scales every parameter's gradient).</summary>
    public Tensor Gradients => grads;

    public FlatAdam(IReadOnlyList<Parameter> parameters, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0)
    {
        this.parameters = parameters;
        (Beta1, Beta2, Eps, WeightDecay) = (beta1, beta2, eps, weightDecay);
        sizes = parameters.Select(p => p.numel()).ToArray();
        offsets = new long[sizes.Length];
        for (int i = 1; i < sizes.Length; i++) offsets[i] = offsets[i - 1] + sizes[i - 1];
        counts = new long[sizes.Length];
        long total = sizes.Sum();
        values = empty(total).DetachFromDisposeScope();
        grads = zeros(total).DetachFromDisposeScope();
        expAvg = zeros(total).DetachFromDisposeScope();
        expAvgSq = zeros(total).DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.dtype != ScalarType.Float32)
                throw new ArgumentException($"FlatAdam keeps fp32 parameters (got {p.dtype})");
            var v = values.narrow(0, offsets[i], sizes[i]).view(p.shape);
            v.copy_(p);
            p.set_(v);
            p.grad = grads.narrow(0, offsets[i], sizes[i]).view(p.shape);
        }
    }

    public void ZeroGrad() => grads.zero_();

    /// <summary>Scales the gradients so that their global L2 norm is at most <paramref name="maxNorm"/>; returns the
    /// norm before.</summary>
    public double ClipGradNorm(double maxNorm)
    {
        double norm = grads.norm().item<float>();
        if (norm > maxNorm && double.IsFinite(norm)) grads.MulK_(maxNorm / (norm + 1e-6));
        return norm;
    }

    /// <summary>
    /// One update at learning rate <paramref name="lr"/> of every parameter, or of those listed in
    /// <paramref name="only"/> (indices into the parameter list; the others keep their values and step counts, as a
    /// parameter without a gradient does in torch.optim.Adam). While all counts agree the update runs once over the
    /// whole buffer.
    /// </summary>
    public void Step(double lr, IReadOnlyCollection<int>? only = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (only is null && counts.All(c => c == counts[0]))
        {
            for (int i = 0; i < counts.Length; i++) counts[i]++;
            if (counts.Length > 0) Update(values, grads, expAvg, expAvgSq, counts[0], lr);
            return;
        }
        foreach (int i in only ?? Enumerable.Range(0, counts.Length))
        {
            Tensor Seg(Tensor t) => t.narrow(0, offsets[i], sizes[i]);
            Update(Seg(values), Seg(grads), Seg(expAvg), Seg(expAvgSq), ++counts[i], lr);
        }
    }

    void Update(Tensor value, Tensor grad, Tensor m, Tensor v, long step, double lr)
    {
        double bc1 = 1 - Math.Pow(Beta1, step), bc2 = 1 - Math.Pow(Beta2, step);
        using var decay = WeightDecay.ToScalar();
        var g = WeightDecay != 0 ? grad.add(value, decay) : grad;
        using var oneMinusB1 = (1 - Beta1).ToScalar();
        using var oneMinusB2 = (1 - Beta2).ToScalar();
        using var stepSize = (-lr / bc1).ToScalar();
        m.MulK_(Beta1).add_(g, oneMinusB1);
        v.MulK_(Beta2).addcmul_(g, g, oneMinusB2);
        var denom = v.sqrt().DivK_(Math.Sqrt(bc2)).AddK_(Eps);
        value.addcdiv_(m, denom, stepSize);
    }

    /// <summary>The moments and the step counts, atomically, as safetensors.</summary>
    public void Save(string path)
    {
        using var steps = tensor(counts);
        Safetensors.Write(path, [new("exp_avg", expAvg), new("exp_avg_sq", expAvgSq), new("steps", steps)],
            new Dictionary<string, string> { ["optimizer"] = "adam" });
    }

    public void Load(string path)
    {
        var (tensors, _) = Safetensors.Read(path);
        try
        {
            var byName = tensors.ToDictionary(t => t.Key, t => t.Value);
            foreach (var name in new[] { "exp_avg", "exp_avg_sq" })
                if (!byName.TryGetValue(name, out var t) || t.numel() != Count)
                    throw new UserInputException($"{path}: optimizer state " +
                        $"for {(t is null ? "another network" : $"{t.numel():N0} parameters")}, this " +
                        $"network has {Count:N0}");
            if (!byName.TryGetValue("steps", out var s) || s.numel() != counts.Length)
                throw new UserInputException(
                    $"{path}: step counts for another network ({counts.Length} parameter tensors here)");
            using var _ = no_grad();
            expAvg.copy_(byName["exp_avg"].view(-1));
            expAvgSq.copy_(byName["exp_avg_sq"].view(-1));
            s.data<long>().ToArray().CopyTo(counts, 0);
        }
        finally { foreach (var (_, t) in tensors) t.Dispose(); }
    }

    /// <summary>
    /// Takes over the state of a TorchSharp Adam saved with <c>save_state_dict</c> (the trainer's format before this
    /// class): same update, per-tensor moments and step counts in parameter order.
    /// </summary>
    public void LoadTorchSharpState(string path)
    {
        using var scope = NewDisposeScope();
        using var adam = optim.Adam(parameters, 1e-3, Beta1, Beta2, Eps, WeightDecay);
        using (var fs = File.OpenRead(path))
        using (var reader = new BinaryReader(fs))
            adam.load_state_dict(reader);
        var states = adam.state_dict().State.Cast<Adam.State>().ToList();
        if (states.Count != parameters.Count)
            throw new UserInputException(
                $"{path}: optimizer state for {states.Count} tensors, this network has {parameters.Count}");
        using var _ = no_grad();
        for (int i = 0; i < states.Count; i++)
        {
            expAvg.narrow(0, offsets[i], sizes[i]).copy_(states[i].exp_avg.reshape(-1));
            expAvgSq.narrow(0, offsets[i], sizes[i]).copy_(states[i].exp_avg_sq.reshape(-1));
            counts[i] = states[i].step;
        }
    }

    public void Dispose()
    {
        values.Dispose(); grads.Dispose(); expAvg.Dispose(); expAvgSq.Dispose();
    }
}
