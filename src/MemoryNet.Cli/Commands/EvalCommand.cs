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
/// scores restored images against targets under a named protocol (docs/protocols.md).
/// </summary>
public static class EvalCommand
{
    sealed class Options
    {
        public readonly Option<string> Pred = new("--pred") { Description = "Folder of restored images (paired with --gt by file stem; extensions may differ)" };
        public readonly Option<string> Gt = new("--gt") { Description = "Folder of ground-truth images" };
        public readonly Option<string> Mask = new("--mask") { Description = "Folder of shadow masks (needed by istd, istd-full; white = shadow)" };
        public readonly Option<string> Protocol = new("--protocol", "-p") { Description = $"Scoring protocol: {string.Join(", ", EvalProtocols.Names)}" };
        public readonly Option<string> Json = new("--json") { Description = "Write the report as JSON to this file" };
        public readonly Option<string> Csv = new("--csv") { Description = "Write per-image scores as CSV to this file" };
        public readonly Option<int> Border = new("--border") { Description = "Crop this many pixels from every side before scoring", DefaultValueFactory = _ => 0 };
    }

    public static Command Create()
    {
        var cmd = new Command("eval", "Score restored images against ground truth under a named protocol (" + string.Join(", ", EvalProtocols.Names) + ")");
        var o = new Options();
        foreach (var opt in new Option[] { o.Pred, o.Gt, o.Mask, o.Protocol, o.Json, o.Csv, o.Border }) cmd.Options.Add(opt);
        o.Protocol.AcceptOnlyFromAmong([.. EvalProtocols.Names]);
        cmd.SetAction(parse => Run(parse, o));
        return cmd;
    }

    static int Run(ParseResult parse, Options o)
    {
        var protoName = parse.GetValue(o.Protocol)
            ?? throw new UserInputException($"--protocol is required ({string.Join(", ", EvalProtocols.Names)})");
        var protocol = EvalProtocols.Get(protoName);
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

        var report = Score(protocol, items, border, $"pred={pred} gt={gt}" + (protocol.ShadowLab ? $" mask={mask}" : ""));
        Print(report);
        var jsonPath = parse.GetValue(o.Json);
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, report.ToJson());
        var csvPath = parse.GetValue(o.Csv);
        if (csvPath is not null) AtomicFile.WriteAllText(csvPath, report.ToCsv());
        return 0;
    }

    /// <summary>
    /// Scores the items, several pairs at a time (one torch thread each: the per-image work is many
    /// small element-wise ops, which parallelise better across images), with a progress bar when interactive.
    /// </summary>
    public static EvalReport Score(EvalProtocol protocol, IReadOnlyList<PairedItem> items, int border, string? source)
    {
        var scores = new PairScore[items.Count];
        void Work(Action? tick)
        {
            int threads = torch.get_num_threads();
            torch.set_num_threads(1);
            try
            {
                Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 8) }, i =>
                {
                    var it = items[i];
                    var p = ImageCodec.Read(it.Input);
                    var t = ImageCodec.Read(it.Target);
                    var m = it.Mask is null ? null : ImageCodec.Read(it.Mask);
                    scores[i] = ProtocolScorer.Score(protocol, it.Name, p, t, m, border);
                    tick?.Invoke();
                });
            }
            catch (AggregateException e)
            {
                // report one clear error: bad input first
                var first = e.Flatten().InnerExceptions.OrderBy(x => x is UserInputException or ImageFormatException ? 0 : 1).First();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }
            finally { torch.set_num_threads(threads); }
        }
        if (CliCommon.Interactive && items.Count > 1)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            console.Progress().AutoClear(true).Columns(
                    new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"eval ({protocol.Name})", maxValue: items.Count);
                    Work(() => task.Increment(1));
                });
        }
        else Work(null);

        var report = new EvalReport(protocol, scores) { Border = border, Source = source };
        foreach (var s in report.SsimUndefined)
            Console.Error.WriteLine($"warning: {s.Name}: {s.Width}x{s.Height} is smaller than the {protocol.Ssim.WindowSize}x{protocol.Ssim.WindowSize} SSIM window; SSIM not computed (null), left out of the mean");
        return report;
    }

    static string F(double v, string fmt) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNaN(v) ? "-" : v.ToString(fmt, CultureInfo.InvariantCulture);

    /// <summary>Prints the mean and the 5 worst images as a table on stdout.</summary>
    public static void Print(EvalReport r)
    {
        bool lab = r.Protocol.ShadowLab;
        AnsiConsole.MarkupLine($"[bold]protocol[/] {Markup.Escape(r.Protocol.Name)}: {Markup.Escape(r.Protocol.Description)}");
        AnsiConsole.MarkupLine($"[grey]source: {Markup.Escape(r.Protocol.Source)}[/]");
        if (r.Source is not null) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.Source)}{(r.Border > 0 ? $" border={r.Border}" : "")}, {r.Count} images[/]");
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
        if (lab) mean.AddRange([F(r.All!.RmseLab, "0.000"), F(r.Shadow!.RmseLab, "0.000"), F(r.NonShadow!.RmseLab, "0.000")]);
        table.AddRow(mean.ToArray());
        if (lab)
            table.AddRow([ "[grey]per-image mean[/]", "", "",
                F(r.All!.RmseLabPerImage, "0.000"), F(r.Shadow!.RmseLabPerImage, "0.000"), F(r.NonShadow!.RmseLabPerImage, "0.000") ]);
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
