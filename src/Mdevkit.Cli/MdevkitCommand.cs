using System.CommandLine;
using Mdevkit.Cli.Commands;
using Mdevkit.Cli.Mdevctl;

namespace Mdevkit.Cli;

/// <summary>The <c>mdevkit</c> command tree; output goes to the writers given, so tests capture exact bytes.</summary>
public static class MdevkitCommand
{
    /// <summary>Runs the command line; <paramref name="invokedAs"/> (argv[0]'s file name) selects the mdevctl personality.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, string invokedAs = "mdevkit")
    {
        if (invokedAs is "mdevctl" or "lsmdev")
        {
            return MdevctlCli.Run(invokedAs, args, output, error);
        }
        var root = new RootCommand("mdevkit: tools for Linux mediated devices (VFIO mdev)")
        {
            SimCommand.Create(),
            Commands.Libvirt.NodedevCommand.Create(),
            Commands.Libvirt.HostdevCommand.Create(),
            Commands.Planning.ProbeCommand.Create(),
            Commands.Planning.PlanCommands.Plan(),
            Commands.Planning.PlanCommands.Apply(),
            Commands.Planning.GroupCommand.Create(),
        };
        var rootOption = MdevctlOptions.Root();
        foreach (var command in MdevctlCli.Commands(rootOption))
        {
            command.Options.Add(rootOption);
            Commands.Planning.MdevctlExtensions.Extend(command, rootOption);
            root.Subcommands.Add(command);
        }
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        // No response files: "@FILE" is plan's own syntax for a request file.
        return root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).Invoke(configuration);
    }
}
