using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MemoryNet.Metrics;

/// <summary>Totals of one region over a set of images.</summary>
/// <param name="RmseLab">Per-pixel: Σ over images of the error sums / Σ of pixel counts.</param>
/// <param name="RmseLabPerImage">Per-image: mean over images of each image's mean (images with no pixels in the region
/// are skipped).</param>
public sealed record RegionSummary(double RmseLab, double RmseLabPerImage, long Pixels);

/// <summary>The result of scoring a set of pairs under one protocol; writes the JSON of cli.md and a CSV.</summary>
public sealed class EvalReport
{
    public EvalProtocol Protocol { get; }
    public IReadOnlyList<PairScore> PerImage { get; }
    public int Border { get; init; }
    /// <summary>Folder(s) scored, for the report.</summary>
    public string? Source { get; init; }

    public EvalReport(EvalProtocol protocol, IReadOnlyList<PairScore> perImage)
    {
        Protocol = protocol;
        PerImage = perImage;
    }

    public int Count => PerImage.Count;
    /// <summary>Mean PSNR over images (+∞ if any pair is identical).</summary>
    public double Psnr => Count == 0 ? double.NaN : PerImage.Average(s => s.Psnr);
    /// <summary>Mean SSIM over the images where it is defined (NaN when none is).</summary>
    public double Ssim => PerImage.Where(s => s.SsimDefined).Select(s => s.Ssim).DefaultIfEmpty(double.NaN).Average();
    public IEnumerable<PairScore> SsimUndefined => PerImage.Where(s => !s.SsimDefined);

    public RegionSummary? All => Region(l => (l.AllSum, l.AllPixels));
    public RegionSummary? Shadow => Region(l => (l.ShadowSum, l.ShadowPixels));
    public RegionSummary? NonShadow => Region(l => (l.NonShadowSum, l.NonShadowPixels));
    /// <summary>The headline "RMSE": LAB mean absolute error over all pixels of the set (per-pixel); null unless the
    /// protocol has LAB.</summary>
    public double? RmseLab => All?.RmseLab;

    RegionSummary? Region(Func<LabErrorSums, (double Sum, long Pixels)> pick)
    {
        if (!Protocol.ShadowLab || Count == 0) return null;
        var parts = PerImage.Select(s => pick(s.Lab!)).ToList();
        double sum = parts.Sum(x => x.Sum);
        long pixels = parts.Sum(x => x.Pixels);
        double perImage = parts.Where(x => x.Pixels > 0).Select(x => x.Sum / x.Pixels).DefaultIfEmpty(double.NaN)
            .Average();
        return new RegionSummary(pixels == 0 ? double.NaN : sum / pixels, perImage, pixels);
    }

    /// <summary>The worst images: lowest PSNR first (then lowest SSIM).</summary>
    public IEnumerable<PairScore> Worst(int n) =>
        PerImage.OrderBy(s => s.Psnr).ThenBy(s => double.IsNaN(s.Ssim) ? double.MaxValue : s.Ssim).Take(n);

    /// <summary>JSON as in cli.md; +∞ is the string "inf", undefined values are null.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms, new JsonWriterOptions
        {
            Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping
        }))
        {
            j.WriteStartObject();
            j.WriteString("protocol", Protocol.Name);
            j.WriteString("protocol_description", Protocol.Description);
            j.WriteString("protocol_source", Protocol.Source);
            if (Source is not null) j.WriteString("source", Source);
            j.WriteNumber("border", Border);
            j.WriteNumber("count", Count);
            Num(j, "psnr", Psnr);
            Num(j, "ssim", Ssim);
            if (RmseLab is double r) Num(j, "rmse_lab", r); else j.WriteNull("rmse_lab");
            if (Protocol.ShadowLab && Count > 0)
            {
                j.WriteStartObject("regions");
                foreach (var (key, reg) in new[] { ("all", All!), ("shadow", Shadow!), ("non_shadow", NonShadow!) })
                {
                    j.WriteStartObject(key);
                    Num(j, "rmse_lab", reg.RmseLab);
                    Num(j, "rmse_lab_per_image", reg.RmseLabPerImage);
                    j.WriteNumber("pixels", reg.Pixels);
                    j.WriteEndObject();
                }
                j.WriteEndObject();
            }
            else j.WriteNull("regions");
            j.WriteStartArray("per_image");
            foreach (var s in PerImage)
            {
                j.WriteStartObject();
                j.WriteString("name", s.Name);
                Num(j, "psnr", s.Psnr);
                Num(j, "ssim", s.Ssim);
                if (s.Lab is { } l)
                {
                    Num(j, "rmse_lab", l.All);
                    Num(j, "rmse_lab_shadow", l.Shadow);
                    Num(j, "rmse_lab_non_shadow", l.NonShadow);
                    j.WriteNumber("shadow_pixels", l.ShadowPixels);
                    j.WriteNumber("non_shadow_pixels", l.NonShadowPixels);
                }
                j.WriteNumber("width", s.Width);
                j.WriteNumber("height", s.Height);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>One row per image: name, psnr, ssim[, rmse_lab, rmse_lab_shadow, rmse_lab_non_shadow, shadow_pixels,
    /// non_shadow_pixels].</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append("name,psnr,ssim");
        if (Protocol.ShadowLab)
            sb.Append(",rmse_lab,rmse_lab_shadow,rmse_lab_non_shadow,shadow_pixels,non_shadow_pixels");
        sb.Append('\n');
        foreach (var s in PerImage)
        {
            sb.Append(CsvField(s.Name)).Append(',').Append(Fmt(s.Psnr)).Append(',').Append(Fmt(s.Ssim));
            if (s.Lab is { } l)
                sb.Append(',').Append(Fmt(l.All)).Append(',').Append(Fmt(l.Shadow)).Append(',').Append(Fmt(l.NonShadow))
                  .Append(',').Append(l.ShadowPixels).Append(',').Append(l.NonShadowPixels);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Invariant text for a value: "inf", "" for undefined, else round-trip digits.</summary>
    public static string Fmt(double v) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    static void Num(Utf8JsonWriter j, string name, double v)
    {
        if (double.IsPositiveInfinity(v)) j.WriteString(name, "inf");
        else if (double.IsNegativeInfinity(v)) j.WriteString(name, "-inf");
        else if (double.IsNaN(v)) j.WriteNull(name);
        else j.WriteNumber(name, v);
    }
}
