using TorchSharp;
using static TorchSharp.torch;

namespace MemoryNet.Weights;

/// <summary>
/// The state_dict as PyTorch lists it: every path to every parameter and buffer, shared ones under each of
/// their names (TorchSharp's own state_dict() lists a shared module once; the reference's PReLU has 55 names).
/// </summary>
public static class StateDict
{
    public static List<KeyValuePair<string, Tensor>> Entries(nn.Module module)
    {
        var list = new List<KeyValuePair<string, Tensor>>();
        Walk(module, "", list);
        return list;
    }

    static void Walk(nn.Module module, string prefix, List<KeyValuePair<string, Tensor>> list)
    {
        foreach (var (name, p) in module.named_parameters(recurse: false))
            list.Add(new(prefix + name, p));
        foreach (var (name, b) in module.named_buffers(recurse: false))
            list.Add(new(prefix + name, b));
        foreach (var (name, child) in module.named_children())
            Walk(child, prefix + name + ".", list);
    }

    /// <summary>The distinct trainable parameters (a shared parameter once), for optimisers.</summary>
    public static List<TorchSharp.Modules.Parameter> UniqueParameters(nn.Module module)
    {
        var seen = new HashSet<IntPtr>();
        return module.parameters().Where(p => seen.Add(p.Handle)).ToList();
    }

    /// <summary>Copies every parameter of <paramref name="from"/> into the same parameter of <paramref name="to"/>, a
    /// module of the same architecture (values converted to the target's type and layout).</summary>
    public static void CopyParameters(nn.Module from, nn.Module to)
    {
        using var _ = torch.no_grad();
        var src = UniqueParameters(from);
        var dst = UniqueParameters(to);
        for (int i = 0; i < src.Count; i++) dst[i].copy_(src[i]);
    }
}
