using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace MemoryNet.Cli.Serve;

/// <summary>
/// One log line per request: readable text, or a JSON object for log collectors (id, method, path, status, ms, and for
/// restores the model, megapixels, seconds waiting for a slot and seconds restoring). Handlers record the restore facts
/// in <see cref="HttpContext.Items"/> under the keys below.
/// </summary>
public static class RequestLog
{
    public const string Model = "model", Megapixels = "megapixels", QueueSeconds = "queue_seconds",
        RestoreSeconds = "restore_seconds";
    static readonly string[] Facts = [Model, Megapixels, QueueSeconds, RestoreSeconds];

    public static string Line(HttpContext ctx, string format, TimeSpan elapsed)
    {
        var r = ctx.Request;
        if (format == "json")
        {
            var o = new JsonObject
            {
                ["time"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["id"] = ctx.TraceIdentifier,
                ["method"] = r.Method,
                ["path"] = r.Path.Value,
                ["status"] = ctx.Response.StatusCode,
                ["ms"] = Math.Round(elapsed.TotalMilliseconds, 1),
            };
            foreach (var k in Facts)
                if (ctx.Items.TryGetValue(k, out var v) && v is not null) o[k] = JsonValue.Create(v);
            return o.ToJsonString();
        }
        string facts = ctx.Items.TryGetValue(Model, out var m) && m is not null
            ? $" [{m}, {ctx.Items[Megapixels]} MP" + (ctx.Items.TryGetValue(RestoreSeconds, out var s)
                ? $", waited {ctx.Items[QueueSeconds]} s, restored in {s} s]"
                : "]")
            : "";
        return $"{DateTime.Now:HH:mm:ss} {r.Method} {r.Path} → {ctx.Response.StatusCode} " +
            $"in {elapsed.TotalMilliseconds:0} ms{facts}";
    }
}
