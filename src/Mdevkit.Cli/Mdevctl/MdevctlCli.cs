using System.CommandLine;

namespace Mdevkit.Cli.Mdevctl;

/// <summary>
/// The mdevctl command set, shared by <c>mdevkit</c> (with <c>--root</c>) and by the binary invoked as
/// <c>mdevctl</c> or <c>lsmdev</c>, where it behaves like mdevctl, parse errors included (exit 2).
/// </summary>
internal static class MdevctlCli
{
    public static IEnumerable<Command> Commands(Option<string>? root, IMdevctlExtensions? extensions = null) =>
    [
        DefineCommand.Create(root, extensions),
        UndefineCommand.Create(root),
        ModifyCommand.Create(root),
        StartCommand.Create(root, extensions),
        StopCommand.Create(root, extensions),
        ListCommand.Create(root),
        TypesCommand.Create(root),
        StartParentMdevsCommand.Create(root),
    ];

    /// <summary>Runs as <c>mdevctl</c>, or as <c>lsmdev</c> (which is <c>mdevctl list</c>).</summary>
    public static int Run(string name, string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("A mediated device management utility for Linux");
        if (name == "lsmdev")
        {
            ListCommand.Configure(root, null);
        }
        else
        {
            foreach (var command in Commands(null))
            {
                root.Subcommands.Add(command);
            }
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            // clap's shape: one error line, the usage, a hint; exit 2.
            var command = parse.CommandResult.Command;
            var path = command == root ? name : $"{name} {command.Name}";
            var message = parse.UnmatchedTokens.Count > 0 ? $"unexpected argument '{parse.UnmatchedTokens[0]}' found" : parse.Errors[0].Message;
            error.Write($"error: {message}\n\nUsage: {path} [OPTIONS]\n\nFor more information, try '--help'.\n");
            return 2;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }
}
