using System.CommandLine;
using MemoryNet.Architectures;
using MemoryNet.Data;
using MemoryNet.Weights;
using TorchSharp;

namespace MemoryNet.Cli;

/// <summary>The options that pick a network (--model, --arch, --task) and how it runs (--threads), shared by
/// commands.</summary>
public sealed class ModelOptions
{
    public readonly Option<string?> Model = new("--model", "-m")
    {
        Description = "Weights file (.safetensors, or PyTorch .pth/.pt: plain state_dict or a dict holding " +
            "'state_dict'; 'module.' prefixes ok) or a bundled model name"
    };
    public readonly Option<string?> Arch =
        new("--arch") { Description = "Architecture preset when the file names none: " + ArchRegistry.PresetNames };
    public readonly Option<string?> Task = new("--task")
    {
        Description = "Use the bundled model for a task: " + RestorationTasks.List
    };
    public readonly Option<int> Threads = new("--threads")
    {
        Description = "CPU threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount
    };

    public readonly Option<int?> Tlc = new("--tlc")
    {
        Description = "Test-time local statistics (NAFNet's TLC): give the patch size the model was trained on, and " +
            "each channel-attention mean is taken over a window of 1.5x that patch instead of the whole image " +
            "(bundled models: derain and deraindrop 128, deblur 192, deshadow 256). A model file may turn it on by " +
            "default (models info shows 'tlc'); 0 turns it off",
        HelpName = "PATCH"
    };

    public void AddTo(Command c)
    {
        c.Options.Add(Model); c.Options.Add(Arch); c.Options.Add(Task); c.Options.Add(Threads); c.Options.Add(Tlc);
    }

    public void ApplyThreads(ParseResult p)
    {
        int n = p.GetValue(Threads);
        if (n < 1) throw new UserInputException($"--threads must be at least 1 (got {n})");
        torch.set_num_threads(n);
    }

    /// <summary>Loads the network the options name; describes where it came from in
    /// <paramref name="source"/>.</summary>
    public RestorationNet Load(ParseResult p, out string source)
    {
        string? model = p.GetValue(Model), task = p.GetValue(Task), arch = p.GetValue(Arch);
        var spec = arch is null ? null : ArchRegistry.FromName(arch);
        if (model is not null && task is not null)
            throw new UserInputException("give either --model or --task, not both");
        if (task is not null) model = BundledModels.PathForTask(task);
        else if (model is not null && !File.Exists(model) && BundledModels.TryFind(model) is { } bundled)
            model = bundled;
        if (model is null)
            throw new UserInputException(
                "no network chosen: give --model FILE (with --arch for a .pth when needed) or --task NAME");
        var net = ModelFile.LoadForRestoring(model, spec, p.GetValue(Tlc), out _, out int? tlc);
        source = tlc is int patch ? $"{model} (tlc {patch})" : model;
        return net;
    }
}
