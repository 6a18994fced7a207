using System.CommandLine;
using System.CommandLine.Help;
using MemoryNet.Cli;

// a named root (not RootCommand) so that help shows "memorynet", the launcher's name, rather than the assembly's
var root = new Command("memorynet",
    "MemoryNet for .NET: remove rain, raindrops, shadows and motion blur from photos; train, evaluate and " +
    "benchmark MemoryNet/MPRNet.");
root.Options.Add(new HelpOption());
root.Options.Add(new VersionOption());
root.Options.Add(CliCommon.Verbose);
foreach (var command in CommandRegistry.All()) root.Subcommands.Add(command);
return CliCommon.Invoke(root, args);
