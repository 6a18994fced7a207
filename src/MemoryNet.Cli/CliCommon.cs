using System.CommandLine;
using MemoryNet.Imaging;
using Spectre.Console;

namespace MemoryNet.Cli;

public static class CliCommon
{
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces on errors", Recursive = true
    };

    /// <summary>Parses and runs; usage errors exit 2, bad input exits 2, other failures exit 1, each as one line on
    /// stderr.</summary>
    public static int Invoke(Command root, string[] args)
    {
        // bare `memorynet`: the help, as a successful answer
        if (args.Length == 0) args = ["--help"];
        var parse = root.Parse(BareSelfEnsemble(args));
        if (UnknownOption(parse) is { } unknown)
        {
            Console.Error.WriteLine($"error: {unknown}");
            Console.Error.WriteLine("Run 'memorynet --help' or 'memorynet COMMAND --help' for usage.");
            return 2;
        }
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("Run 'memorynet --help' or 'memorynet COMMAND --help' for usage.");
            return 2;
        }
        bool verbose = parse.GetValue(Verbose);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            var inner = e is AggregateException { InnerExceptions.Count: 1 } ae ? ae.InnerException! : e;
            bool bad = inner is UserInputException or ImageFormatException or FileNotFoundException
                or DirectoryNotFoundException;
            Console.Error.WriteLine($"error: {Describe(inner)}");
            if (verbose) Console.Error.WriteLine(inner);
            return bad ? 2 : 1;
        }
    }

    /// <summary>
    /// A token that looks like an option (--taks) but is none of the command's: commands with file arguments would
    /// otherwise take it as a file name. The message names the closest option. Null when there is none (or the token
    /// is an existing file).
    /// </summary>
    static string? UnknownOption(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var known = command.Options.Concat(command.Parents.OfType<Command>()
            .SelectMany(c => c.Options.Where(o => o.Recursive)))
            .SelectMany(o => o.Aliases.Append(o.Name)).Where(n => n.StartsWith('-')).Distinct().ToList();
        foreach (var token in parse.Tokens)
        {
            string t = token.Value;
            if (token.Type != System.CommandLine.Parsing.TokenType.Argument || !t.StartsWith("--") || t.Length < 3
                || File.Exists(t) || Directory.Exists(t)) continue;
            string name = t.Split('=')[0];
            if (known.Contains(name)) continue;
            var closest = known.OrderBy(k => Distance(k, name)).FirstOrDefault();
            return $"unknown option '{name}' for '{command.Name}'" +
                (closest is not null && Distance(closest, name) <= 3 ? $" (did you mean {closest}?)" : "");
        }
        return null;
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions).</summary>
    static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    /// <summary>A warning for each old option spelling used on the command line (it still works).</summary>
    public static void WarnOldSpelling(ParseResult parse, params (string Old, string New)[] spellings)
    {
        foreach (var (old, now) in spellings)
            if (parse.Tokens.Any(t => t.Value == old || t.Value.StartsWith(old + "=")))
                Console.Error.WriteLine($"warning: {old} is now {now} (the dataset layout); {old} still works for now");
    }

    /// <summary>An error's message, with the option that changes it where there is one (the library names no
    /// flags).</summary>
    public static string Describe(Exception e) =>
        e is MemoryNet.Imaging.ImageFormatException { Problem: MemoryNet.Imaging.ImageProblem.TooManyPixels }
            ? e.Message + " (raise it with --max-pixels)" : e.Message;

    public static MemoryNet.Inference.Precision ParsePrecision(string value) => value.ToLowerInvariant() switch
    {
        "fp32" => MemoryNet.Inference.Precision.Fp32,
        "bf16" => MemoryNet.Inference.Precision.Bf16,
        _ => throw new UserInputException($"--precision must be fp32 or bf16 (got {value})"),
    };

    /// <summary>The --self-ensemble option of restore and eval: bare means x8.</summary>
    public static Option<string> SelfEnsembleOption() => new("--self-ensemble")
    {
        Arity = ArgumentArity.ZeroOrOne,
        Description = "Average the outputs of flipped/rotated copies of each image: x8 (bare; 8 passes), flips " +
            "(mirrors and half turn, 4 passes) or none; gains in docs/bundled-models.md"
    };

    /// <summary>`--self-ensemble` takes an optional value, so the parser would read the input path in `restore
    /// --self-ensemble photo.jpg` as the mode; a bare flag before something that looks like a path means x8.</summary>
    static string[] BareSelfEnsemble(string[] args) =>
        [.. args.Select((a, i) => a == "--self-ensemble" && i + 1 < args.Length
            && MemoryNet.Inference.Restorer.ParseEnsemble(args[i + 1]) is null && LooksLikePath(args[i + 1])
            ? "--self-ensemble=x8" : a)];

    /// <summary>A token that names a file or folder rather than an option value: it exists, or has a folder
    /// separator or an image extension.</summary>
    static bool LooksLikePath(string token) =>
        File.Exists(token) || Directory.Exists(token) || token.Contains('/') || token.Contains('\\')
        || MemoryNet.Imaging.ImageCodec.IsImagePath(token);

    /// <summary>The self-ensemble <paramref name="option"/> asks for (None when absent).</summary>
    public static MemoryNet.Inference.SelfEnsemble ParseSelfEnsemble(ParseResult parse, Option<string> option)
    {
        var result = parse.GetResult(option);
        if (result is null || result.Implicit) return MemoryNet.Inference.SelfEnsemble.None;
        var value = result.Tokens.Count == 0 ? "x8" : result.Tokens[0].Value;
        return MemoryNet.Inference.Restorer.ParseEnsemble(value) ?? throw new UserInputException(
            $"--self-ensemble takes x8, flips or none (got '{value}')");
    }

    /// <summary>
    /// Runs <paramref name="work"/> (which calls its tick once per item, from any thread) with a progress bar on stderr
    /// when interactive and there is more than one item; plainly otherwise.
    /// </summary>
    public static T WithProgress<T>(string description, int count, Func<Action?, T> work)
    {
        if (!Interactive || count <= 1) return work(null);
        T result = default!;
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) })
            .Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(description, maxValue: count);
                result = work(() => { lock (task) task.Increment(1); });
            });
        return result;
    }

    /// <summary>Quiet output (no progress bars) when stderr is not a terminal or CI is set.</summary>
    public static bool Interactive =>
        !Console.IsErrorRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
}
