using System.CommandLine;
using Mdevkit.Cli.Commands;

namespace Mdevkit.Cli;

/// <summary>The <c>mdevkit</c> command tree; output goes to the writers given, so tests capture exact bytes.</summary>
public static class MdevkitCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("mdevkit: tools for Linux mediated devices (VFIO mdev)")
        {
            SimCommand.Create(),
        };
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        return root.Parse(args).Invoke(configuration);
    }
}
