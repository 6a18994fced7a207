using System.CommandLine;
using MemoryNet.Cli;

var root = new RootCommand("MemoryNet for .NET: remove rain, raindrops, shadows and motion blur from photos; train, evaluate and benchmark MemoryNet/MPRNet.");
root.Options.Add(CliCommon.Verbose);
foreach (var command in CommandRegistry.All()) root.Subcommands.Add(command);
return CliCommon.Invoke(root, args);
