using static TorchSharp.torch;

namespace MemoryNet.Tests;

/// <summary>ScalarOps keep every native Scalar of a call alive, including the alpha TorchSharp's one-argument adds
/// make for themselves: a data-parallel training run died at step 7,000 on "Expected false to be true" from
/// Scalar::toFloat when the collector freed that alpha during the call.</summary>
public class ScalarOpsTests
{
    [Fact]
    public void Adds_survive_a_collector_running_beside_them()
    {
        // three threads add while a fourth collects and finalizes without pause; TorchSharp's x.add(s) fails here
        // about forty times a second on 2 cores
        var stop = DateTime.UtcNow.AddSeconds(3);
        int calls = 0;
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        var collector = new Thread(() =>
        {
            while (DateTime.UtcNow < stop) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        });
        var workers = Enumerable.Range(0, 3).Select(i => new Thread(() =>
        {
            using var x = ones(4);
            while (DateTime.UtcNow < stop)
            {
                try
                {
                    using var a = x.AddK(1e-3);
                    using var b = x.clone();
                    b.AddK_(2).Plus_(a);
                    using var c = a.Plus(b);
                    Interlocked.Increment(ref calls);
                    using var total = c.sum();
                    if (Math.Abs(total.item<float>() - 4 * (1.001f + 4.001f)) > 1e-3f) errors.Add("wrong sum");
                }
                catch (Exception e) { errors.Add(e.Message.Split('\n')[0]); }
                _ = new byte[1024];   // garbage, so that collections find Scalars to finalize
            }
        })).ToList();
        collector.Start();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        collector.Join();
        Assert.True(calls > 100, $"{calls} calls");
        Assert.True(errors.IsEmpty, $"{errors.Count} of {calls} calls failed: {errors.FirstOrDefault()}");
    }

    /// <summary>The forms a reader can spot: a one-argument add (its alpha), square() (TorchSharp's pow(2)) and a
    /// number literal passed to a Scalar-taking method. Operators with numbers and number-typed variables need a
    /// reader; this catches the common slips.</summary>
    [Fact]
    public void Library_code_passes_no_unkept_scalars_in_the_forms_a_scan_can_see()
    {
        var pattern = new System.Text.RegularExpressions.Regex(
            @"\bsquare\(|\.(add|add_|sub|sub_|mul|mul_|div|div_|pow|pow_|fill_|remainder|clamp|"
            + @"clamp_|clamp_min|clamp_max|gt|lt|ge|le|eq|ne|masked_fill|masked_fill_)\(\s*-?[0-9]");
        var found = new List<string>();
        foreach (var project in new[] { "MemoryNet", "MemoryNet.Cli" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "src", project), "*.cs",
                         SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(TestPaths.RepoRoot, file);
                if (rel.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                    || rel.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                    || Path.GetFileName(file) == "ScalarOps.cs") continue;
                var lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                    if (!lines[i].TrimStart().StartsWith("//")
                        && (pattern.IsMatch(lines[i]) || OneArgumentAdd(lines[i])))
                        found.Add($"{rel}:{i + 1}: {lines[i].Trim()}");
            }
        Assert.True(found.Count == 0,
            "use ScalarOps (MulK, AddK, DivK_, PowK, Plus …):\n" + string.Join("\n", found));
    }

    /// <summary>An add(…) or add_(…) on the line whose arguments have no comma outside brackets (a call that runs on
    /// to the next line is not judged).</summary>
    static bool OneArgumentAdd(string line)
    {
        foreach (var call in new[] { ".add(", ".add_(" })
            for (int at = line.IndexOf(call, StringComparison.Ordinal); at >= 0;
                 at = line.IndexOf(call, at + 1, StringComparison.Ordinal))
            {
                int depth = 0;
                bool comma = false, closed = false;
                for (int i = at + call.Length; i < line.Length && !closed; i++)
                    switch (line[i])
                    {
                        case '(' or '[' or '{': depth++; break;
                        case ')' or ']' or '}' when depth == 0: closed = true; break;
                        case ')' or ']' or '}': depth--; break;
                        case ',' when depth == 0: comma = true; break;
                    }
                if (closed && !comma) return true;
            }
        return false;
    }

    [Theory]
    [InlineData("x.add(y.view(n, c))", true)]
    [InlineData("box.add_(s[.., .., 1..]);", true)]
    [InlineData("x.add(y, One)", false)]
    [InlineData("x.add_(f(a, b), One);", false)]
    [InlineData("x.add(", false)]
    public void The_scan_tells_one_argument_adds_from_adds_with_an_alpha(string line, bool flagged) =>
        Assert.Equal(flagged, OneArgumentAdd(line));
}
