namespace Mdevkit.Cli.Tests;

/// <summary>Runs the command line in-process and captures exactly what it writes.</summary>
internal static class CliRunner
{
    public static (int Exit, string Output, string Error) Run(string invokedAs, params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var exit = MdevkitCommand.Run(args, output, error, invokedAs);
        return (exit, output.ToString(), error.ToString());
    }
}
