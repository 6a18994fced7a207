using MemoryNet.Imaging;

namespace MemoryNet.Training;

/// <summary>curve.png: training loss (left axis) and validation PSNR (right axis) against the step.</summary>
public static class CurvePlot
{
    public static void TryWrite(string logPath, string pngPath)
    {
        try { Write(logPath, pngPath); }
        catch (Exception e) when (e is not OutOfMemoryException) { Console.Error.WriteLine($"warning: could not draw {pngPath}: {e.Message}"); }
    }

    public static void Write(string logPath, string pngPath)
    {
        var rows = RunLog.Read(logPath);
        var loss = rows.Where(r => r["loss"] is not null && r["step"] is not null).ToList();
        var val = rows.Where(r => r["event"]?.GetValue<string>() == "val").ToList();
        var plot = new ScottPlot.Plot();
        if (loss.Count > 0)
        {
            var s = plot.Add.Scatter(loss.Select(r => (double)r["step"]!.GetValue<long>()).ToArray(), loss.Select(r => r["loss"]!.GetValue<double>()).ToArray());
            s.LegendText = "loss";
            s.MarkerSize = 0;
        }
        if (val.Count > 0)
        {
            var v = plot.Add.Scatter(val.Select(r => (double)r["step"]!.GetValue<long>()).ToArray(), val.Select(r => r["psnr"]!.GetValue<double>()).ToArray());
            v.LegendText = $"validation PSNR ({val[^1]["protocol"]?.GetValue<string>()})";
            v.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "PSNR (dB)";
        }
        plot.Axes.Bottom.Label.Text = "step";
        plot.Axes.Left.Label.Text = "loss";
        plot.ShowLegend();
        AtomicFile.WriteAllBytes(pngPath, plot.GetImageBytes(900, 500, ScottPlot.ImageFormat.Png));
    }
}
