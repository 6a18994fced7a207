using System.CommandLine;
using MemoryNet.Architectures.Mpr;
using MemoryNet.Architectures;
using MemoryNet.Data;
using MemoryNet.Weights;
using Spectre.Console;

namespace MemoryNet.Cli.Commands;

/// <summary>memorynet models [list | info NAME | import FILE --arch PRESET -o OUT.safetensors | average FILE... -o
/// OUT.safetensors | export MODEL -o OUT.pth | grow MODEL --enc … --middle N --dec … -o OUT.safetensors]</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var cmd = new Command("models", "List bundled models, show a model file, or convert a PyTorch checkpoint");

        var listJson = new Option<bool>("--json")
        {
            Description = "Print the list as JSON (name, task, arch, parameters, bytes, path)"
        };
        var list = new Command("list", "List the bundled models");
        list.Options.Add(listJson);
        list.SetAction(p => List(p.GetValue(listJson)));

        var infoName = new Argument<string>("NAME") { Description = "A bundled model name or a weights file" };
        var info = new Command("info", "Show a model's architecture and metadata");
        info.Arguments.Add(infoName);
        info.SetAction(p => Info(p.GetValue(infoName)!));

        var file = new Argument<string>("FILE") { Description = "PyTorch checkpoint (.pth/.pt) or safetensors" };
        var arch =
            new Option<string?>("--arch") { Description = "Architecture preset (inferred from shapes when omitted)" };
        var output = new Option<string>("--output", "-o") { Description = "Output .safetensors file", Required = true };
        var task = new Option<string?>("--task")
        {
            Description = "Record the task the model restores (" + RestorationTasks.List + ") in its metadata"
        };
        var tlc = new Option<int?>("--tlc")
        {
            Description = "Record that the model restores with test-time local statistics at this training patch by " +
                "default (restore, eval and serve use it unless given --tlc); for models measured better with it on " +
                "images larger than their patches",
            HelpName = "PATCH"
        };
        var import = new Command("import", "Convert a checkpoint to this project's safetensors format");
        import.Arguments.Add(file);
        import.Options.Add(arch);
        import.Options.Add(output);
        import.Options.Add(task);
        import.Options.Add(tlc);
        import.SetAction(p => Import(p.GetValue(file)!, p.GetValue(arch), p.GetValue(output)!, p.GetValue(task),
            p.GetValue(tlc)));

        var files = new Argument<string[]>("FILE")
        {
            Description = "Checkpoints of one architecture (e.g. a run's saved steps)", Arity = ArgumentArity.OneOrMore
        };
        var avgOutput = new Option<string>("--output", "-o")
        {
            Description = "Output .safetensors file", Required = true
        };
        var avgTask = new Option<string?>("--task")
        {
            Description = "Record the task the model restores in its metadata (default: the first file's)"
        };
        var average = new Command("average",
            "Average checkpoints of one architecture weight by weight (steadier than any one of a " +
            "noisy run's checkpoints)");
        average.Arguments.Add(files);
        average.Options.Add(avgOutput);
        average.Options.Add(avgTask);
        average.SetAction(p => Average(p.GetValue(files)!, p.GetValue(avgOutput)!, p.GetValue(avgTask)));

        var growName = new Argument<string>("MODEL")
            { Description = "A bundled NAFNet model or a NAFNet weights file" };
        var growEnc = new Option<string>("--enc")
        {
            Description = "Encoder blocks per level, e.g. 2,2,4,6 (each at least the model's)", Required = true
        };
        var growMiddle = new Option<int>("--middle") { Description = "Middle blocks", Required = true };
        var growDec = new Option<string>("--dec")
            { Description = "Decoder blocks per level, e.g. 2,2,2,2", Required = true };
        var growOutput = new Option<string>("--output", "-o")
            { Description = "Output .safetensors file", Required = true };
        var grow = new Command("grow",
            "Deepen a NAFNet without changing what it computes (new blocks start as the identity), to train on " +
            "with more capacity (train --init OUT)");
        grow.Arguments.Add(growName);
        grow.Options.Add(growEnc);
        grow.Options.Add(growMiddle);
        grow.Options.Add(growDec);
        grow.Options.Add(growOutput);
        grow.SetAction(p => Grow(p.GetValue(growName)!, p.GetValue(growEnc)!, p.GetValue(growMiddle),
            p.GetValue(growDec)!, p.GetValue(growOutput)!));

        var exportName = new Argument<string>("MODEL") { Description = "A bundled model name or a weights file" };
        var exportOutput = new Option<string>("--output", "-o")
        {
            Description = "Output PyTorch checkpoint (.pth or .pt)", Required = true
        };
        var wrap = new Option<bool>("--wrap")
        {
            Description = "Save {'state_dict': ...} as the official training scripts do, instead of " +
                "the plain state_dict"
        };
        var export = new Command("export",
            "Write a model as a PyTorch checkpoint (zip format, the reference state_dict names) that " +
            "the official code loads");
        export.Arguments.Add(exportName);
        export.Options.Add(exportOutput);
        export.Options.Add(wrap);
        export.SetAction(p => Export(p.GetValue(exportName)!, p.GetValue(exportOutput)!, p.GetValue(wrap)));

        cmd.Subcommands.Add(list);
        cmd.Subcommands.Add(info);
        cmd.Subcommands.Add(import);
        cmd.Subcommands.Add(average);
        cmd.Subcommands.Add(export);
        cmd.Subcommands.Add(grow);
        cmd.SetAction(_ => List(json: false));
        return cmd;
    }

    static int List(bool json)
    {
        var table = new Table().AddColumns("name", "task", "architecture", "parameters", "size MB", "tlc");
        var rows = new System.Text.Json.Nodes.JsonArray();
        int n = 0;
        foreach (var path in BundledModels.All())
        {
            using var ckpt = ModelFile.Read(path);
            var spec = ModelFile.SpecOf(ckpt);
            long count = ckpt.ByName().Values.Sum(t => t.numel());
            string name = Path.GetFileNameWithoutExtension(path), task = ckpt.Metadata.GetValueOrDefault("task", "-");
            long bytes = new FileInfo(path).Length;
            int? tlc = ModelFile.DefaultTlc(ckpt.Metadata, path);
            table.AddRow(name, task, spec.Name, count.ToString("N0"), (bytes / 1e6).ToString("0.0"),
                tlc?.ToString() ?? "-");
            rows.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = name, ["task"] = task == "-" ? null : task, ["arch"] = spec.Name,
                ["family"] = spec.Architecture.Family,
                ["parameters"] = count, ["bytes"] = bytes, ["path"] = Path.GetFullPath(path), ["tlc"] = tlc,
            });
            n++;
        }
        if (json) { Console.WriteLine(rows.ToJsonString(new() { WriteIndented = true })); return 0; }
        if (n == 0) AnsiConsole.WriteLine($"no bundled models in {BundledModels.Describe()}");
        else AnsiConsole.Write(table);
        return 0;
    }

    static int Info(string name)
    {
        string path = FileOrBundled(name);
        using var ckpt = ModelFile.Read(path);
        var spec = ModelFile.SpecOf(ckpt);
        AnsiConsole.WriteLine($"file: {path}");
        AnsiConsole.WriteLine($"architecture: {spec.Describe()}" +
            $"{(ckpt.Metadata.ContainsKey("arch") ? "" : " (inferred from tensor shapes)")}");
        AnsiConsole.WriteLine($"tensors: {ckpt.Tensors.Count}, unique " +
            $"parameters: {ckpt.ByName().Values.Select(t => t.numel()).Sum():N0} values");
        foreach (var (k, v) in ckpt.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (k != "arch") AnsiConsole.WriteLine($"{k}: {v}");
        return 0;
    }

    static int Average(string[] files, string output, string? task)
    {
        CheckOutput(output, task);
        using var model = ModelFile.Average(files, out var firstMetadata);
        var meta = new Dictionary<string, string>
        {
            ["source"] = $"mean of {files.Length}: " + string.Join(", ", files.Select(Path.GetFileName))
        };
        CarryUse(firstMetadata, meta);
        if (task is not null) meta["task"] = task;
        ModelFile.Save(model, output, meta);
        AnsiConsole.WriteLine($"wrote {output}: the mean of {files.Length} checkpoint(s) of {model.Spec.Describe()}");
        return 0;
    }

    static int Grow(string name, string enc, int middle, string dec, string output)
    {
        CheckOutput(output, null);
        string path = FileOrBundled(name);
        using var source = ModelFile.Load(path, null, out var metadata);
        using var grown = MemoryNet.Architectures.NafNet.NafNetArchitecture.Grow(source, Counts("--enc", enc), middle,
            Counts("--dec", dec));
        var meta = new Dictionary<string, string> { ["source"] = $"{Path.GetFileName(path)} grown" };
        CarryUse(metadata, meta);
        ModelFile.Save(grown, output, meta);
        AnsiConsole.WriteLine($"wrote {output}: {grown.Spec.Describe()}, {Parameters(grown):N0} parameters " +
            $"({Parameters(source):N0} before), the same outputs as {Path.GetFileName(path)}");
        return 0;
    }

    /// <summary>Copies what says how to use a model (its task, its test-time local statistics) to a file made from
    /// it: an average of its checkpoints or a grown copy restores the same kind of image the same way.</summary>
    static void CarryUse(IReadOnlyDictionary<string, string> from, Dictionary<string, string> to)
    {
        foreach (var key in new[] { "task", ModelFile.TlcKey })
            if (from.GetValueOrDefault(key) is { } value) to[key] = value;
    }

    /// <summary>A weights file, or the file of the bundled model of that name.</summary>
    static string FileOrBundled(string name) => File.Exists(name) ? name : BundledModels.TryFind(name)
        ?? throw new UserInputException($"{name}: no such file or bundled model");

    static int[] Counts(string option, string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        return parts.All(p => int.TryParse(p, out int n) && n >= 1) ? parts.Select(int.Parse).ToArray()
            : throw new UserInputException($"{option}: expected block counts such as 2,2,4,6 (got '{text}')");
    }

    static long Parameters(TorchSharp.torch.nn.Module model) => model.parameters().Sum(p => p.numel());

    static void CheckOutput(string output, string? task)
    {
        if (!output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"{output}: the output must be a .safetensors file");
        if (task is not null) RestorationTasks.Get(task);
    }

    static int Export(string name, string output, bool wrap)
    {
        if (!output.EndsWith(".pth", StringComparison.OrdinalIgnoreCase)
            && !output.EndsWith(".pt", StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"{output}: the output must be a .pth or .pt file");
        string path = FileOrBundled(name);
        using var model = ModelFile.Load(path);
        var entries = StateDict.Entries(model);
        PthWriter.Write(output, entries, wrap ? "state_dict" : null);
        AnsiConsole.WriteLine(
            $"wrote {output}: {entries.Count} tensors of {model.Spec.Describe()}{(wrap ? " under 'state_dict'" : "")}");
        if (model.Spec is ArchSpec { AffineHead: true })
            AnsiConsole.WriteLine("note: this model has an affine output head, which the official MPRNet/MemoryNet " +
                "code does not have: it loads only into this project");
        return 0;
    }

    static int Import(string file, string? arch, string output, string? task, int? tlc)
    {
        CheckOutput(output, task);
        using var model = ModelFile.Load(file, arch is null ? null : ArchRegistry.FromName(arch));
        var meta = new Dictionary<string, string> { ["source"] = Path.GetFileName(file) };
        if (task is not null) meta["task"] = task;
        if (tlc is int patch)
        {
            model.UseLocalStatistics(patch);   // refuses a patch this architecture cannot take
            model.UseLocalStatistics(null);
            meta[ModelFile.TlcKey] = patch.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        ModelFile.Save(model, output, meta);
        AnsiConsole.WriteLine($"wrote {output}: {model.Spec.Describe()}");
        return 0;
    }
}
