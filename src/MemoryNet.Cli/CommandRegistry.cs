using System.CommandLine;
using MemoryNet.Cli.Commands;

namespace MemoryNet.Cli;

/// <summary>The one place that lists the commands (one file per command under Commands/).</summary>
public static class CommandRegistry
{
    public static IEnumerable<Command> All() =>
    [
        DemoCommand.Create(),
        RestoreCommand.Create(),
        EvalCommand.Create(),
        SynthCommand.Create(),
        TrainCommand.Create(),
        BenchCommand.Create(),
        ModelsCommand.Create(),
        ServeCommand.Create(),
        CurvesCommand.Create(),
    ];
}
