using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace MemoryNet.Architectures.NafNet;

/// <summary>NAFNet's hyper-parameters, named as the reference constructor's arguments.</summary>
public sealed record NafNetSpec(string Name, int Width, IReadOnlyList<int> EncBlocks, int MiddleBlocks,
    IReadOnlyList<int> DecBlocks,
    int ImgChannels = 3) : NetSpec(Name)
{
    public override IArchitecture Architecture => NafNetArchitecture.Instance;

    /// <summary>Each encoder level halves the resolution.</summary>
    public override int SizeMultiple => 1 << EncBlocks.Count;

    /// <summary>150 bytes per pixel per unit of width. Measured (peak RSS of
    /// `bench --arch nafnet-s --size S --iters 2`, fp32, jemalloc): 256² 301.5 MiB, 512² 715.1 MiB, 1024² 2,186.6
    /// MiB, i.e. 2,206 and 1,962 B/pixel between them, 138 B per width channel at width 16; 150 leaves a
    /// margin.</summary>
    public override double ActivationBytesPerPixel => 150.0 * Width;

    public override RestorationNet Build() => new NafNetModel(this);

    public override string Describe() =>
        $"{Name} (NAFNet width {Width}, encoder blocks [{string.Join(", ", EncBlocks)}], middle {MiddleBlocks}, " +
            $"decoder blocks [{string.Join(", ", DecBlocks)}])";

    public override JsonObject ToJson() => new()
    {
        ["family"] = Architecture.Family, ["name"] = Name, ["img_channel"] = ImgChannels, ["width"] = Width,
        ["enc_blk_nums"] = new JsonArray(EncBlocks.Select(n => (JsonNode)n).ToArray()),
        ["middle_blk_num"] = MiddleBlocks,
        ["dec_blk_nums"] = new JsonArray(DecBlocks.Select(n => (JsonNode)n).ToArray()),
    };

    // lists compare by content, so that equal hyper-parameters are equal specs
    public bool Equals(NafNetSpec? other) =>
        other is not null && base.Equals(other) && Width == other.Width && MiddleBlocks == other.MiddleBlocks
            && ImgChannels == other.ImgChannels
        && EncBlocks.SequenceEqual(other.EncBlocks) && DecBlocks.SequenceEqual(other.DecBlocks);

    public override int GetHashCode() => HashCode.Combine(Name, Width, MiddleBlocks, ImgChannels,
        string.Join(",", EncBlocks), string.Join(",", DecBlocks));
}

/// <summary>
/// The NAFNet family. Presets: the two published configurations at width 32 (GoPro deblurring: encoder [1, 1, 1, 28];
/// SIDD denoising: [2, 2, 4, 8] with 12 middle blocks) and nafnet-s, small enough to train on two CPU cores.
/// Hyper-parameters are read off a state_dict: width from intro, block counts from the keys.
/// </summary>
public sealed partial class NafNetArchitecture : IArchitecture
{
    public string Family => "nafnet";

    public static readonly NafNetSpec GoPro32 = new("nafnet-gopro-32", 32, [1, 1, 1, 28], 1, [1, 1, 1, 1]);
    public static readonly NafNetSpec Sidd32 = new("nafnet-sidd-32", 32, [2, 2, 4, 8], 12, [2, 2, 2, 2]);
    public static readonly NafNetSpec Small = new("nafnet-s", 16, [1, 1, 2, 4], 2, [1, 1, 1, 1]);

    public IReadOnlyList<NetSpec> Presets { get; } = [GoPro32, Sidd32, Small];

    // after the presets: static fields initialise in order, and the instance's Presets list reads them
    public static readonly NafNetArchitecture Instance = new();

    public bool Recognises(IReadOnlyDictionary<string, Tensor> stateDict) =>
        stateDict.ContainsKey("intro.weight") && stateDict.Keys.Any(k => k.StartsWith("middle_blks."));

    [GeneratedRegex(@"^(encoders|decoders)\.(\d+)\.(\d+)\.conv1\.weight$")]
    private static partial Regex LevelBlock();

    [GeneratedRegex(@"^middle_blks\.(\d+)\.conv1\.weight$")]
    private static partial Regex MiddleBlock();

    public NetSpec Infer(IReadOnlyDictionary<string, Tensor> sd, string path)
    {
        if (!sd.TryGetValue("intro.weight", out var introWeight) || introWeight.dim() != 4)
            throw new UserInputException(
                $"{path}: cannot infer the architecture: key 'intro.weight' is missing (is this a NAFNet checkpoint?)");
        int width = (int)introWeight.shape[0], img = (int)introWeight.shape[1];
        int[] Counts(string part)
        {
            var blocks = sd.Keys.Select(k => LevelBlock().Match(k)).Where(m => m.Success && m.Groups[1].Value == part)
                .GroupBy(m => int.Parse(m.Groups[2].Value)).OrderBy(g => g.Key).ToList();
            for (int i = 0; i < blocks.Count; i++)
                if (blocks[i].Key != i) throw new UserInputException($"{path}: {part} level {i} is missing");
            return blocks.Select(g => g.Count()).ToArray();
        }
        int[] enc = Counts("encoders"), dec = Counts("decoders");
        int middle = sd.Keys.Count(k => MiddleBlock().IsMatch(k));
        if (enc.Length != dec.Length)
            throw new UserInputException($"{path}: {enc.Length} encoder levels but {dec.Length} decoder levels");
        return new NafNetSpec("custom", width, enc, middle, dec, img);
    }

    /// <summary>
    /// A deeper NAFNet that computes exactly what <paramref name="source"/> computes: the same width and levels, each
    /// level's blocks extended to the counts given, every weight of the source kept under its name. A new NAF block
    /// starts as the identity (its β and γ are zero), so training the grown network resumes from the source's quality
    /// with more capacity instead of starting from scratch (function-preserving growth, as in Net2Net).
    /// </summary>
    public static NafNetModel Grow(RestorationNet source, IReadOnlyList<int> enc, int middle, IReadOnlyList<int> dec)
    {
        if (source.Spec is not NafNetSpec from)
            throw new UserInputException($"only a NAFNet can be grown (this is {source.Spec.Describe()})");
        if (enc.Count != from.EncBlocks.Count || dec.Count != from.DecBlocks.Count)
            throw new UserInputException($"the network has {from.EncBlocks.Count} levels; give " +
                $"{from.EncBlocks.Count} encoder and decoder block counts (got {enc.Count} and {dec.Count})");
        if (enc.Zip(from.EncBlocks).Any(p => p.First < p.Second) || middle < from.MiddleBlocks
            || dec.Zip(from.DecBlocks).Any(p => p.First < p.Second))
            throw new UserInputException($"growing cannot remove blocks: the network has {from.Describe()}");
        var spec = new NafNetSpec("custom", from.Width, enc.ToArray(), middle, dec.ToArray(), from.ImgChannels)
            .Canonical();
        var grown = new NafNetModel((NafNetSpec)spec);
        var theirs = Weights.StateDict.Entries(source).ToDictionary(kv => kv.Key, kv => kv.Value);
        using (no_grad())
            foreach (var (key, target) in Weights.StateDict.Entries(grown))
                if (theirs.TryGetValue(key, out var w)) target.copy_(w);
        return grown;
    }

    public NetSpec FromJson(JsonObject o)
    {
        int[] List(string key) => o[key]?.AsArray().Select(n => n!.GetValue<int>()).ToArray() ?? [];
        return new NafNetSpec(o["name"]?.GetValue<string>() ?? "custom", o["width"]?.GetValue<int>() ?? 16,
            List("enc_blk_nums"),
            o["middle_blk_num"]?.GetValue<int>() ?? 1, List("dec_blk_nums"), o["img_channel"]?.GetValue<int>() ?? 3);
    }
}
