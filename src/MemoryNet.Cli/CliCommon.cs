using System.CommandLine;
using MemoryNet.Imaging;
using Spectre.Console;

namespace MemoryNet.Cli;

public static class CliCommon
{
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Show stack traces on errors", Recursive = true };

    /// <summary>Parses and runs; usage errors exit 2, bad input exits 2, other failures exit 1, each as one line on stderr.</summary>
    public static int Invoke(Command root, string[] args)
    {
        var parse = root.Parse(args);
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
            bool bad = inner is UserInputException or ImageFormatException or FileNotFoundException or DirectoryNotFoundException;
            Console.Error.WriteLine($"error: {Describe(inner)}");
            if (verbose) Console.Error.WriteLine(inner);
            return bad ? 2 : 1;
        }
    }

    /// <summary>An error's message, with the option that changes it where there is one (the library names no flags).</summary>
    public static string Describe(Exception e) =>
        e is MemoryNet.Imaging.ImageFormatException { Problem: MemoryNet.Imaging.ImageProblem.TooManyPixels } ? e.Message + " (raise it with --max-pixels)" : e.Message;

    public static MemoryNet.Inference.Precision ParsePrecision(string value) => value.ToLowerInvariant() switch
    {
        "fp32" => MemoryNet.Inference.Precision.Fp32,
        "bf16" => MemoryNet.Inference.Precision.Bf16,
        _ => throw new UserInputException($"--precision must be fp32 or bf16 (got {value})"),
    };

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
    public static bool Interactive => !Console.IsErrorRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
}
