using System.Text.Json;

namespace MemoryNet.Data.Synthesis;

/// <summary>Ordered parameters of one degradation, written to manifest.jsonl (doubles rounded to 6 decimals).</summary>
public sealed class SynthParams : List<KeyValuePair<string, object>>
{
    public SynthParams Set(string key, object value) { Add(new(key, value)); return this; }

    public object? this[string key] => this.FirstOrDefault(kv => kv.Key == key).Value;

    public static double R(double v) => Math.Round(v, 6);

    public void WriteTo(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        foreach (var (k, v) in this) { w.WritePropertyName(k); WriteValue(w, v); }
        w.WriteEndObject();
    }

    public static void WriteValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case ulong u: w.WriteNumberValue(u); break;
            case float f: w.WriteNumberValue(R(f)); break;
            case double d: w.WriteNumberValue(R(d)); break;
            case SynthParams p: p.WriteTo(w); break;
            case System.Collections.IEnumerable e:
                w.WriteStartArray();
                foreach (var x in e) WriteValue(w, x);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }
}
