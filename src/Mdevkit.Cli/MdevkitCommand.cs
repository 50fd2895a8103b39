using System.CommandLine;
using System.CommandLine.Help;
using Mdevkit.Cli.Commands;
using Mdevkit.Cli.Mdevctl;

namespace Mdevkit.Cli;

/// <summary>The <c>mdevkit</c> command tree; output goes to the writers given, so tests capture exact bytes.</summary>
public static class MdevkitCommand
{
    /// <summary>Set to 1 to see the whole exception behind an internal error.</summary>
    public const string DebugVariable = "MDEVKIT_DEBUG";

    /// <summary>Runs the command line; <paramref name="invokedAs"/> (argv[0]'s file name) selects the mdevctl personality.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, string invokedAs = "mdevkit") =>
        Guarded(error, () => IsMdevctlName(invokedAs) ? MdevctlCli.Run(invokedAs, args, output, error) : RunMdevkit(args, output, error));

    /// <summary>
    /// Runs the command line given as the kernel passed it: an argument that is not valid UTF-8 is refused
    /// before anything runs (as mdevctl refuses it, exit 2), instead of reaching a command as U+FFFD.
    /// </summary>
    public static int Run(IReadOnlyList<byte[]> args, TextWriter output, TextWriter error, string invokedAs = "mdevkit")
    {
        var decoded = new string[args.Count];
        for (var i = 0; i < args.Count; i++)
        {
            if (!CommandLineText.TryDecode(args[i], out decoded[i]))
            {
                error.Write(IsMdevctlName(invokedAs)
                    ? "error: Invalid UTF-8 was detected in one or more arguments\n"
                    : $"Error: argument {i + 1} is not valid UTF-8\n");
                return 2;
            }
        }
        return Run(decoded, output, error, invokedAs);
    }

    private static bool IsMdevctlName(string invokedAs) => invokedAs is "mdevctl" or "lsmdev";

    /// <summary>
    /// The last resort: an exception no command expected becomes one line and exit 1, never a stack trace
    /// (its message would be a resource key in the trimmed build anyway). <c>MDEVKIT_DEBUG=1</c> shows it whole.
    /// </summary>
    internal static int Guarded(TextWriter error, Func<int> run)
    {
        try
        {
            return run();
        }
        catch (Exception e)
        {
            error.Write($"Error: internal error in mdevkit; run again with {DebugVariable}=1 to see where\n");
            if (Environment.GetEnvironmentVariable(DebugVariable) == "1")
            {
                error.Write($"{e}\n");
            }
            return 1;
        }
    }

    private static int RunMdevkit(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("mdevkit: tools for Linux mediated devices (VFIO mdev)")
        {
            SimCommand.Create(),
            Commands.Libvirt.NodedevCommand.Create(),
            Commands.Libvirt.HostdevCommand.Create(),
            Commands.Planning.ProbeCommand.Create(),
            Commands.Planning.PlanCommands.Plan(),
            Commands.Planning.PlanCommands.Apply(),
            Commands.Planning.ReconcileCommand.Create(),
            Commands.Planning.GroupCommand.Create(),
            EventsCommand.Create(),
        };
        var rootOption = MdevctlOptions.Root();
        foreach (var command in MdevctlCli.Commands(rootOption, new Commands.Planning.MdevctlExtensions(rootOption)))
        {
            command.Options.Add(rootOption);
            root.Subcommands.Add(command);
        }
        // No response files: "@FILE" is plan's own syntax for a request file.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            // One line that names what was wrong, exit 2 as mdevctl's usage errors; the help stays behind --help.
            var message = parse.UnmatchedTokens.Count > 0 ? $"unrecognized command or argument '{parse.UnmatchedTokens[0]}'" : parse.Errors[0].Message;
            error.Write($"Error: {message}\n");
            return 2;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }
}
