using System.Text.Json.Nodes;
using MemoryNet.Imaging;

namespace MemoryNet.Training;

/// <summary>The files of a run folder.</summary>
public sealed class RunFolder(string dir)
{
    public string Dir { get; } = Path.GetFullPath(dir);
    public string Config => Path.Combine(Dir, "config.yml");
    public string Latest => Path.Combine(Dir, "latest.safetensors");
    public string Ema => Path.Combine(Dir, "ema.safetensors");
    public string Best => Path.Combine(Dir, "best.safetensors");
    /// <summary>Adam's state (<see cref="FlatAdam"/>).</summary>
    public string Adam => Path.Combine(Dir, "latest.adam.safetensors");
    /// <summary>Adam's state as runs before <see cref="FlatAdam"/> saved it (TorchSharp's format); read on
    /// resume.</summary>
    public string Optimizer => Path.Combine(Dir, "latest.optimizer.bin");
    public string State => Path.Combine(Dir, "state.json");
    public string Log => Path.Combine(Dir, "log.jsonl");
    public string Curve => Path.Combine(Dir, "curve.png");
    /// <summary>Weights kept along the way (--keep-every), e.g. for <c>models average</c>.</summary>
    public string Steps => Path.Combine(Dir, "steps");
    public string StepWeights(long step) => Path.Combine(Steps, $"step-{step:D6}.safetensors");
}

/// <summary>What a resume needs besides weights and optimiser: the step (data order and learning rate derive from it)
/// and the best score.</summary>
public sealed record RunState(long Step, double Seconds, double? BestPsnr, long? BestStep)
{
    public string ToJson() => new JsonObject
    {
        ["step"] = Step, ["seconds"] = Math.Round(Seconds, 2), ["best_psnr"] = BestPsnr, ["best_step"] = BestStep,
    }.ToJsonString();

    public static RunState FromJson(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        return new RunState(o["step"]!.GetValue<long>(), o["seconds"]?.GetValue<double>() ?? 0,
            o["best_psnr"]?.GetValue<double>(), o["best_step"]?.GetValue<long>());
    }
}

/// <summary>Appends one JSON object per line; each line is flushed so a killed run keeps its log.</summary>
public sealed class RunLog(string path)
{
    public void Write(JsonObject row)
    {
        using var fs = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var w = new StreamWriter(fs);
        w.WriteLine(row.ToJsonString());
    }

    public static List<JsonObject> Read(string path) =>
        !File.Exists(path) ? [] : File.ReadLines(path).Where(l => l.TrimStart().StartsWith('{'))
            .Select(l =>
            {
                try { return JsonNode.Parse(l)?.AsObject(); } catch (System.Text.Json.JsonException) { return null; }
            })
            .Where(o => o is not null).Select(o => o!).ToList();
}
