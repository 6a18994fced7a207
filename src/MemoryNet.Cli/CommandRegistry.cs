using System.CommandLine;

namespace MemoryNet.Cli;

/// <summary>The one place that lists the commands (one file per command under Commands/).</summary>
public static class CommandRegistry
{
    public static IEnumerable<Command> All() =>
    [
        Commands.SynthCommand.Create(),
    ];
}
