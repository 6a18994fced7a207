using MemoryNet.Cli;
using System.CommandLine;

namespace MemoryNet.Tests;

/// <summary>Runs the memorynet CLI in-process; tests that use it join the "Console" collection (stderr is
/// process-wide).</summary>
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
        return (code,
            err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}

/// <summary>Runs the memorynet CLI as its own process (built next to the tests: the test project references it), for
/// tests that kill it or read its resident memory.</summary>
public static class CliProcess
{
    /// <summary>The started process and its stderr so far (stdout is drained and dropped).</summary>
    public static (System.Diagnostics.Process Process, System.Text.StringBuilder Stderr) Start(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MemoryNet.Cli.dll");
        Assert.True(File.Exists(dll), $"{dll}: the CLI is not built next to the tests");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = System.Diagnostics.Process.Start(psi)!;
        var err = new System.Text.StringBuilder();
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { lock (err) err.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return (p, err);
    }
}
