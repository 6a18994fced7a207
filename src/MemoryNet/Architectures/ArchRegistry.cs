using System.Text.Json.Nodes;
using MemoryNet.Architectures.Mpr;
using static TorchSharp.torch;

namespace MemoryNet.Architectures;

/// <summary>Every network family the program knows. Adding a family is one line here (its folder holds the rest:
/// the network and its <see cref="IArchitecture"/>).</summary>
public static class ArchRegistry
{
    public static IReadOnlyList<IArchitecture> All { get; } =
    [
        MprArchitecture.Instance,
        NafNet.NafNetArchitecture.Instance,
    ];

    public static IEnumerable<NetSpec> Presets => All.SelectMany(a => a.Presets);

    public static string PresetNames => string.Join(", ", Presets.Select(p => p.Name));

    public static NetSpec FromName(string name) =>
        Presets.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UserInputException($"unknown architecture '{name}' (known: {PresetNames})");

    /// <summary>The spec a weights file's metadata names ("arch"), or null when it names none. Files written before
    /// there were families carry no "family": they are MPRNet-family files.</summary>
    public static NetSpec? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("arch", out var json)) return null;
        var o = JsonNode.Parse(json)!.AsObject();
        string family = o["family"]?.GetValue<string>() ?? MprArchitecture.Instance.Family;
        var arch = All.FirstOrDefault(a => a.Family == family)
            ?? throw new UserInputException($"the file's architecture family '{family}' is unknown to this version " +
                $"(known: {string.Join(", ", All.Select(a => a.Family))})");
        return arch.FromJson(o);
    }

    /// <summary>The family that recognises the state_dict, and the hyper-parameters read off its shapes.</summary>
    public static NetSpec Infer(IReadOnlyDictionary<string, Tensor> stateDict, string path)
    {
        var arch = All.FirstOrDefault(a => a.Recognises(stateDict))
            ?? throw new UserInputException($"{path}: no known architecture has these keys " +
                $"({string.Join(", ", stateDict.Keys.Take(3))}, …); known " +
                $"families: {string.Join(", ", All.Select(a => a.Family))}");
        return arch.Infer(stateDict, path).Canonical();
    }
}
