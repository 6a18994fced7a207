using System.CommandLine;
using System.Globalization;
using MemoryNet.Data;
using MemoryNet.Imaging;
using MemoryNet.Metrics;
using Spectre.Console;
using TorchSharp;

namespace MemoryNet.Cli.Commands;

/// <summary>
/// <c>memorynet eval --pred DIR --gt DIR [--mask DIR] --protocol P [--json F] [--csv F] [--border N]</c>:
/// scores restored images against targets under a named protocol (docs/protocols.md);
/// <c>memorynet eval --model M --data DIR --layout L [--split test] [--protocol P] [--save DIR]</c> restores the
/// dataset's inputs first (in memory; images are written only with --save).
/// </summary>
public static class EvalCommand
{
    sealed class Options
    {
        public readonly Option<string> Pred = new("--pred")
        {
            Description = "Folder of restored images (paired with --gt by file stem; extensions may differ)"
        };
        public readonly Option<string> Gt = new("--gt") { Description = "Folder of ground-truth images" };
        public readonly Option<string> Mask =
            new("--mask") { Description = "Folder of shadow masks (needed by istd, istd-full; white = shadow)" };
        public readonly Option<string> Protocol =
            new("--protocol", "-p") { Description = $"Scoring protocol: {string.Join(", ", EvalProtocols.Names)}" };
        public readonly Option<string> Json = new("--json") { Description = "Write the report as JSON to this file" };
        public readonly Option<string> Csv =
            new("--csv") { Description = "Write per-image scores as CSV to this file" };
        public readonly Option<int> Border = new("--border")
        {
            Description = "Crop this many pixels from every side before scoring", DefaultValueFactory = _ => 0
        };
        public readonly Option<string> Data =
            new("--data") { Description = "Dataset folder to restore and score (with --model or --task)" };
        public readonly Option<string> Format = new("--layout", "--format")
        {
            Description = "Layout of --data: paired, istd, raindrop, gopro, rice (--format: the older spelling)",
            DefaultValueFactory = _ => "paired"
        };
        public readonly Option<string> Split = new("--split")
        {
            Description = "Sub-folder of --data to use (train/test), when present", DefaultValueFactory = _ => "test"
        };
        public readonly Option<string> Save =
            new("--save") { Description = "Also write the restored images and input|output|target strips here" };
        public readonly Option<string> Precision = new("--precision")
        {
            Description = "fp32 or bf16", DefaultValueFactory = _ => "fp32"
        };
        public readonly Option<string> SelfEnsemble = CliCommon.SelfEnsembleOption();
        public readonly ModelOptions Model = new();
    }

    public static Command Create()
    {
        var cmd = new Command("eval",
            "Score restored images against ground truth under a named protocol (" +
            string.Join(", ", EvalProtocols.Names) + ")");
        var o = new Options();
        foreach (var opt in new Option[] { o.Pred, o.Gt, o.Mask, o.Protocol, o.Json, o.Csv, o.Border, o.Data, o.Format,
            o.Split, o.Save, o.Precision, o.SelfEnsemble }) cmd.Options.Add(opt);
        o.Model.AddTo(cmd);
        o.Protocol.AcceptOnlyFromAmong([.. EvalProtocols.Names]);
        cmd.SetAction(parse => Run(parse, o));
        return cmd;
    }

    /// <summary>The protocol a dataset layout is usually scored with (docs/protocols.md).</summary>
    static string DefaultProtocol(DatasetLayout layout) => layout switch
    {
        DatasetLayout.Istd => "istd",
        DatasetLayout.Raindrop => "raindrop",
        _ => "rgb",
    };

    static int Run(ParseResult parse, Options o)
    {
        if (parse.GetValue(o.Model.Model) is not null || parse.GetValue(o.Model.Task) is not null
            || parse.GetValue(o.Data) is not null)
            return RunModel(parse, o);
        var protoName = parse.GetValue(o.Protocol)
            ?? throw new UserInputException($"--protocol is required ({string.Join(", ", EvalProtocols.Names)})");
        var protocol = EvalProtocols.Get(protoName);
        if (parse.GetResult(o.SelfEnsemble) is { Implicit: false })
            throw new UserInputException("--self-ensemble restores with a model: give --model or --task with --data");
        if (parse.GetValue(o.Model.Tlc) is not null)
            throw new UserInputException("--tlc restores with a model: give --model or --task with --data");
        var pred = parse.GetValue(o.Pred) ?? throw new UserInputException("--pred DIR is required");
        var gt = parse.GetValue(o.Gt) ?? throw new UserInputException("--gt DIR is required");
        var mask = parse.GetValue(o.Mask);
        int border = parse.GetValue(o.Border);
        if (border < 0) throw new UserInputException($"--border must be 0 or more (got {border})");
        if (protocol.ShadowLab && mask is null)
            throw new UserInputException($"protocol '{protocol.Name}' needs the shadow masks: --mask DIR");
        if (!protocol.ShadowLab && mask is not null)
            Console.Error.WriteLine($"warning: protocol '{protocol.Name}' does not use masks; --mask ignored");

        var items = PairedFolders.MatchByStem(pred, gt, protocol.ShadowLab ? mask : null, "pred", "gt");
        PairedFolders.CheckSizes(items, protocol.AllowsSizeMismatch, "pred", "gt");

        var report = Score(protocol, items, border,
            $"pred={pred} gt={gt}" + (protocol.ShadowLab ? $" mask={mask}" : ""));
        return Report(parse, o, report);
    }

    static int RunModel(ParseResult parse, Options o)
    {
        var data = parse.GetValue(o.Data) ?? throw new UserInputException("--data DIR is required with --model/--task");
        if (parse.GetValue(o.Pred) is not null || parse.GetValue(o.Gt) is not null)
            throw new UserInputException(
                "give either --pred/--gt (score existing images) or --model/--task with --data (restore, then score)");
        CliCommon.WarnOldSpelling(parse, ("--format", "--layout"));
        var layout = PairedFolders.ParseLayout(parse.GetValue(o.Format)!);
        // the task's protocol when a task is named (derain: y), else the layout's usual one
        var task = parse.GetValue(o.Model.Task);
        var protocol = EvalProtocols.Get(parse.GetValue(o.Protocol)
            ?? (task is not null ? RestorationTasks.Get(task).Protocol : DefaultProtocol(layout)));
        int border = parse.GetValue(o.Border);
        var items = PairedFolders.Read(data, layout, parse.GetValue(o.Split));
        PairedFolders.CheckSizes(items);
        if (protocol.ShadowLab && items.Any(i => i.Mask is null))
            throw new UserInputException($"protocol '{protocol.Name}' needs shadow masks, and " +
                $"the {layout.ToString().ToLowerInvariant()} layout of {data} has none");
        var save = parse.GetValue(o.Save);

        o.Model.ApplyThreads(parse);
        using var model = o.Model.Load(parse, out var source);
        var restorer = new MemoryNet.Inference.Restorer(model, CliCommon.ParsePrecision(parse.GetValue(o.Precision)!))
        {
            Ensemble = CliCommon.ParseSelfEnsemble(parse, o.SelfEnsemble)
        };
        bool ensembled = restorer.Ensemble != MemoryNet.Inference.SelfEnsemble.None;
        var ensemble = MemoryNet.Inference.Restorer.EnsembleName(restorer.Ensemble);
        Console.Error.WriteLine($"model: {source} — {model.Spec.Describe()}" +
            $"{(ensembled ? $", self-ensemble {ensemble}" : "")}; {items.Count} images from {data}; " +
            $"protocol {protocol.Name}");
        var scores = CliCommon.WithProgress($"restore + eval ({protocol.Name})", items.Count,
            tick => PairEvaluation.RestoreAndScore(restorer, protocol, items, border, save, tick));
        return Report(parse, o, new EvalReport(protocol, scores)
        {
            Border = border, Source = $"model={source} data={data}" + (ensembled ? $" self-ensemble={ensemble}" : "")
        });
    }

    /// <summary>Prints the table and writes --json/--csv.</summary>
    static int Report(ParseResult parse, Options o, EvalReport report)
    {
        Print(report);
        if (parse.GetValue(o.Json) is { } jsonPath) AtomicFile.WriteAllText(jsonPath, report.ToJson());
        if (parse.GetValue(o.Csv) is { } csvPath) AtomicFile.WriteAllText(csvPath, report.ToCsv());
        return 0;
    }

    /// <summary>Scores existing results against their targets (<see cref="PairEvaluation.Score"/>), with a progress bar
    /// when interactive.</summary>
    static EvalReport Score(EvalProtocol protocol, IReadOnlyList<PairedItem> items, int border, string? source)
    {
        var scores = CliCommon.WithProgress($"eval ({protocol.Name})", items.Count,
            tick => PairEvaluation.Score(protocol, items, border, tick));
        var report = new EvalReport(protocol, scores) { Border = border, Source = source };
        foreach (var s in report.SsimUndefined)
            Console.Error.WriteLine($"warning: {s.Name}: {s.Width}x{s.Height} is smaller than " +
                $"the {protocol.Ssim.WindowSize}x{protocol.Ssim.WindowSize} SSIM window; SSIM not computed (null), " +
                "left out of the mean");
        return report;
    }

    static string F(double v, string fmt) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNaN(v) ? "-" : v.ToString(fmt, CultureInfo.InvariantCulture);

    /// <summary>Prints the mean and the 5 worst images as a table on stdout.</summary>
    public static void Print(EvalReport r)
    {
        bool lab = r.Protocol.ShadowLab;
        AnsiConsole.MarkupLine(
            $"[bold]protocol[/] {Markup.Escape(r.Protocol.Name)}: {Markup.Escape(r.Protocol.Description)}");
        AnsiConsole.MarkupLine($"[grey]source: {Markup.Escape(r.Protocol.Source)}[/]");
        if (r.Source is not null)
            AnsiConsole.MarkupLine(
                $"[grey]{Markup.Escape(r.Source)}{(r.Border > 0 ? $" border={r.Border}" : "")}, {r.Count} images[/]");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("");
        table.AddColumn(new TableColumn("PSNR (dB)").RightAligned());
        table.AddColumn(new TableColumn("SSIM").RightAligned());
        if (lab)
        {
            table.AddColumn(new TableColumn("LAB all").RightAligned());
            table.AddColumn(new TableColumn("LAB shadow").RightAligned());
            table.AddColumn(new TableColumn("LAB non-shadow").RightAligned());
        }
        var mean = new List<string> { $"[bold]mean of {r.Count}[/]", F(r.Psnr, "0.000"), F(r.Ssim, "0.0000") };
        if (lab)
            mean.AddRange(
                [F(r.All!.RmseLab, "0.000"), F(r.Shadow!.RmseLab, "0.000"), F(r.NonShadow!.RmseLab, "0.000")]);
        table.AddRow(mean.ToArray());
        if (lab)
            table.AddRow([ "[grey]per-image mean[/]", "", "",
                F(r.All!.RmseLabPerImage, "0.000"), F(r.Shadow!.RmseLabPerImage, "0.000"),
                F(r.NonShadow!.RmseLabPerImage, "0.000") ]);
        if (r.Count > 1)
        {
            table.AddEmptyRow();
            foreach (var s in r.Worst(5))
            {
                var row = new List<string> { Markup.Escape(s.Name), F(s.Psnr, "0.000"), F(s.Ssim, "0.0000") };
                if (lab) row.AddRange([F(s.Lab!.All, "0.000"), F(s.Lab.Shadow, "0.000"), F(s.Lab.NonShadow, "0.000")]);
                table.AddRow(row.ToArray());
            }
            table.Caption("[grey]mean, then the 5 worst images by PSNR[/]");
        }
        AnsiConsole.Write(table);
    }
}
