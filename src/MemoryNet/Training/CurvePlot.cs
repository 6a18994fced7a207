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
    /// The curves of several runs in one plot (label → log.jsonl), e.g. the same recipe in fp32 and bf16. With more
    /// than one run each loss curve is a moving mean over <paramref name="smooth"/> logged rows, so that the runs can
    /// be told apart.
    /// </summary>
    public static void Write(IReadOnlyList<(string Label, string LogPath)> runs, string pngPath, int smooth = 1)
    {
        var plot = new ScottPlot.Plot();
        string? protocol = null;
        var inputLevels = new HashSet<double>(); // runs on the same validation pairs share one input line
        foreach (var (label, logPath) in runs)
        {
            if (!File.Exists(logPath)) throw new UserInputException($"{logPath}: no training log");
            var rows = RunLog.Read(logPath);
            var loss = rows.Where(r => r["loss"] is not null && r["step"] is not null).ToList();
            var val = rows.Where(r => r["event"]?.GetValue<string>() == "val").ToList();
            string prefix = label.Length > 0 ? label + ": " : "";
            if (loss.Count > 0)
            {
                var values = loss.Select(r => r["loss"]!.GetValue<double>()).ToArray();
                var s = plot.Add.Scatter(loss.Select(r => (double)r["step"]!.GetValue<long>()).ToArray(),
                    MovingMean(values, smooth));
                s.LegendText = prefix + (smooth > 1 ? $"loss (mean of {smooth} rows)" : "loss");
                s.MarkerSize = 0;
            }
            if (val.Count > 0)
            {
                protocol = val[^1]["protocol"]?.GetValue<string>();
                var v = plot.Add.Scatter(val.Select(r => (double)r["step"]!.GetValue<long>()).ToArray(),
                    val.Select(r => r["psnr"]!.GetValue<double>()).ToArray());
                v.LegendText = $"{prefix}validation PSNR ({protocol})";
                v.Axes.YAxis = plot.Axes.Right;
                // the degraded input's score on the same crops: the level the curve has to clear
                if (val[^1]["input_psnr"]?.GetValue<double>() is double input && inputLevels.Add(input))
                {
                    var level = plot.Add.HorizontalLine(input);
                    level.Axes.YAxis = plot.Axes.Right;
                    level.LinePattern = ScottPlot.LinePattern.Dashed;
                    level.Color = v.Color;
                    level.LegendText = runs.Count > 1 ? $"validation input {input:0.00} dB" : "validation input";
                }
            }
        }
        if (protocol is not null) plot.Axes.Right.Label.Text = "PSNR (dB)";
        plot.Axes.Bottom.Label.Text = "step";
        plot.Axes.Left.Label.Text = "loss";
        plot.ShowLegend();
        AtomicFile.WriteAllBytes(pngPath, plot.GetImageBytes(900, 500, ScottPlot.ImageFormat.Png));
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
