using MemoryNet.Cli;
using System.CommandLine;

namespace MemoryNet.Tests;

/// <summary>Runs the memorynet CLI in-process; tests that use it join the "Console" collection (stderr is process-wide).</summary>
public static class CliRunner
{
    /// <summary>Returns the exit code and the stderr lines.</summary>
    public static (int Code, string[] Err) Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Options.Add(CliCommon.Verbose);
        foreach (var c in CommandRegistry.All()) root.Subcommands.Add(c);
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        int code;
        try { code = CliCommon.Invoke(root, args); }
        finally { Console.SetError(old); }
        return (code, err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
