using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MemoryNet.Architectures;
using static TorchSharp.torch;


namespace MemoryNet.Architectures.Mpr;

/// <summary>The MPRNet family: MPRNet (swz30/MPRNet) and MemoryNet (zhangbaijin/MemoryNet), with their state_dict
/// keys.</summary>
public sealed partial class MprArchitecture : IArchitecture
{
    public static readonly MprArchitecture Instance = new();

    public string Family => "mprnet";

    public IReadOnlyList<NetSpec> Presets => ArchSpec.Presets;

    public bool Recognises(IReadOnlyDictionary<string, Tensor> stateDict) =>
        stateDict.Keys.Any(k => k.StartsWith("shallow_feat") || k.StartsWith("stage1_")
            || k.StartsWith("stage3_orsnet.") || k.StartsWith("memory.memory."));

    public NetSpec FromJson(JsonObject arch) => ArchSpec.FromJson(arch);

    [GeneratedRegex(@"^stage3_orsnet\.orb1\.body\.(\d+)\.CA\.conv_du\.0\.weight$")]
    private static partial Regex OrbCab();

    /// <summary>Reads n_feat, scale_unetfeats, scale_orsnetfeats, num_cab, reduction, the memory sizes, the feature
    /// memories and the head off tensor shapes.</summary>
    public NetSpec Infer(IReadOnlyDictionary<string, Tensor> sd, string path)
    {
        long Dim(string key, int axis) => sd.TryGetValue(key, out var t) && t.dim() > axis ? t.shape[axis]
            : throw new UserInputException($"{path}: cannot infer the architecture: key '{key}' is missing (is this " +
                "a MemoryNet/MPRNet checkpoint?)");
        int n = (int)Dim("shallow_feat1.0.weight", 0);
        int k = (int)Dim("shallow_feat1.0.weight", 2);
        int s = (int)Dim("stage1_encoder.down12.down.1.weight", 0) - n;
        int o = (int)Dim("concat23.weight", 0) - n;
        int reduction = n / (int)Dim("shallow_feat1.1.CA.conv_du.0.weight", 0);
        int numCab = sd.Keys.Count(key => OrbCab().IsMatch(key));
        if (numCab == 0) throw new UserInputException($"{path}: cannot infer num_cab (no stage3_orsnet.orb1 CABs)");
        ArchSpec spec;
        if (sd.ContainsKey("memory.memory.weight"))
        {
            int parts = (int)Dim("memory.memory.reweight_layer_part.weight", 0);
            int ptt = (int)Dim("memory.memory.reweight_layer_ins.weight", 0);
            int items = (int)Dim("memory.memory.weight", 0);
            spec = new ArchSpec("custom", n, s, o, numCab, 3, ptt, items / (ptt * parts), parts, reduction, k);
        }
        else spec = new ArchSpec("custom", n, s, o, numCab, 0, Reduction: reduction, KernelSize: k);
        bool enc = sd.ContainsKey("fmem_enc1.memory.weight"), dec = sd.ContainsKey("fmem_dec1.memory.weight");
        spec = spec with { FeatureMemory = enc && dec ? "both" : enc ? "encoder" : dec ? "decoder" : "none" };
        if (Dim("tail.weight", 0) == 6) spec = spec with { Head = "affine" };
        return spec;
    }
}
