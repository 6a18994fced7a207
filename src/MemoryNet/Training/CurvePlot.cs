using MemoryNet.Imaging;

namespace MemoryNet.Training;

/// <summary>curve.png: training loss (left axis) and validation PSNR (right axis) against the step.</summary>
public static class CurvePlot
{
    public static void TryWrite(string logPath, string pngPath)
    {
        try { Write(logPath, pngPath); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"warning: could not draw {pngPath}: {e.Message}");
        }
    }

    public static void Write(string logPath, string pngPath) => Write([("", logPath)], pngPath);

    /// <summary>
    /// The curves of several runs in one plot (label → log.jsonl), e.g. the same recipe in fp32 and bf16, or the rows
    /// of an ablation. See <see cref="Build"/>.
    /// </summary>
    public static void Write(IReadOnlyList<(string Label, string LogPath)> runs, string pngPath, int smooth = 1)
    {
        using var plot = Build(runs, smooth);
        var (w, h) = runs.Count > 1 ? (1200, 560) : (900, 500);
        AtomicFile.WriteAllBytes(pngPath, plot.GetImageBytes(w, h, ScottPlot.ImageFormat.Png));
    }

    /// <summary>
    /// The plot <see cref="Write(IReadOnlyList{ValueTuple{string, string}}, string, int)"/> draws. One run: its loss
    /// and its validation PSNR, each in the legend. Several runs: each run has one hue, its loss a light line (a moving
    /// mean over <paramref name="smooth"/> logged rows, so that the runs can be told apart) and its validation PSNR
    /// the dark shade with markers; the legend names each run once and sits outside the data area, which a dozen runs'
    /// entries would otherwise cover. Runs labelled GROUP/NAME (an ablation's row/seed) share their group's hue and
    /// differ by marker and line pattern, so that a dozen runs of six rows read as six colours, not as a palette
    /// that repeats past ten.
    /// </summary>
    public static ScottPlot.Plot Build(IReadOnlyList<(string Label, string LogPath)> runs, int smooth = 1)
    {
        var plot = new ScottPlot.Plot();
        bool several = runs.Count > 1;
        var palette = new ScottPlot.Palettes.Category20(); // ten hues, each as a (dark, light) pair
        ScottPlot.MarkerShape[] shapes = [ScottPlot.MarkerShape.FilledCircle, ScottPlot.MarkerShape.FilledSquare,
            ScottPlot.MarkerShape.FilledTriangleUp, ScottPlot.MarkerShape.FilledDiamond];
        string? protocol = null;
        ScottPlot.LinePattern[] patterns = [ScottPlot.LinePattern.Solid, ScottPlot.LinePattern.Dashed,
            ScottPlot.LinePattern.Dotted];
        var inputLevels = new HashSet<double>(); // runs on the same validation pairs share one input line
        var groups = new List<string>(); // in order of first appearance: the hue index
        var inGroup = new Dictionary<string, int>(); // runs seen so far per group: the marker and pattern index
        for (int i = 0; i < runs.Count; i++)
        {
            var (label, logPath) = runs[i];
            if (!File.Exists(logPath)) throw new UserInputException($"{logPath}: no training log");
            var rows = RunLog.Read(logPath);
            var loss = rows.Where(r => r["loss"] is not null && r["step"] is not null).ToList();
            var val = rows.Where(r => r["event"]?.GetValue<string>() == "val").ToList();
            string prefix = label.Length > 0 ? label + ": " : "";
            int slash = label.IndexOf('/');
            string group = slash > 0 ? label[..slash] : label + "\0" + i; // an unlabelled group is its own
            if (!groups.Contains(group)) groups.Add(group);
            int hue = groups.IndexOf(group), member = inGroup[group] = inGroup.GetValueOrDefault(group, -1) + 1;
            var (dark, light) = (palette.GetColor(2 * hue % 20), palette.GetColor((2 * hue + 1) % 20));
            // past ten groups the hues repeat: the marker then tells the groups apart, as within a group
            int variant = member + hue / 10;
            if (loss.Count > 0)
            {
                var values = loss.Select(r => r["loss"]!.GetValue<double>()).ToArray();
                var s = plot.Add.Scatter(loss.Select(r => (double)r["step"]!.GetValue<long>()).ToArray(),
                    MovingMean(values, smooth));
                s.MarkerSize = 0;
                if (several) { s.Color = light; s.LineWidth = 1; }
                else s.LegendText = smooth > 1 ? $"loss (mean of {smooth} rows)" : "loss";
            }
            if (val.Count > 0)
            {
                protocol = val[^1]["protocol"]?.GetValue<string>();
                var v = plot.Add.Scatter(val.Select(r => (double)r["step"]!.GetValue<long>()).ToArray(),
                    val.Select(r => r["psnr"]!.GetValue<double>()).ToArray());
                v.LegendText = several ? label : $"{prefix}validation PSNR ({protocol})";
                v.Axes.YAxis = plot.Axes.Right;
                if (several)
                {
                    v.Color = dark; v.LineWidth = 2;
                    v.MarkerShape = shapes[variant % shapes.Length];
                    v.LinePattern = patterns[variant % patterns.Length];
                }
                // the degraded input's score on the same crops: the level the curve has to clear
                if (val[^1]["input_psnr"]?.GetValue<double>() is double input && inputLevels.Add(input))
                {
                    var level = plot.Add.HorizontalLine(input);
                    level.Axes.YAxis = plot.Axes.Right;
                    level.LinePattern = ScottPlot.LinePattern.Dashed;
                    level.Color = several ? ScottPlot.Colors.Black : v.Color;
                    level.LegendText = several ? $"validation input {input:0.00} dB" : "validation input";
                }
            }
        }
        if (protocol is not null)
            plot.Axes.Right.Label.Text = several ? $"validation PSNR, dB ({protocol}; dark, markers)" : "PSNR (dB)";
        plot.Axes.Bottom.Label.Text = "step";
        plot.Axes.Left.Label.Text = several ? $"loss (light{(smooth > 1 ? $", mean of {smooth} rows" : "")})" : "loss";
        if (several) plot.ShowLegend(ScottPlot.Edge.Right);
        else plot.ShowLegend();
        return plot;
    }

    static double[] MovingMean(double[] v, int window)
    {
        if (window <= 1) return v;
        var result = new double[v.Length];
        double sum = 0;
        for (int i = 0; i < v.Length; i++)
        {
            sum += v[i];
            if (i >= window) sum -= v[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
