using System.CommandLine;
using Mdevkit.Management;

namespace Mdevkit.Cli.Mdevctl;

/// <summary>
/// What every mdevctl-compatible command needs: the environment (root from <c>--root</c> or
/// <c>MDEVCTL_ENV_ROOT</c>), the managers over it, and the writers. Errors are rendered here, once.
/// </summary>
internal sealed class MdevctlContext
{
    private MdevctlContext(MdevctlEnvironment environment, TextWriter output, TextWriter error)
    {
        Environment = environment;
        Output = output;
        Error = error;
        Definitions = new DefinitionStore(environment);
        Definitions.Warning += Warn;
        var callouts = new Callouts(environment, Warn, error);
        Inventory = new DeviceInventory(environment, Definitions, callouts);
        Manager = new DeviceManager(environment, Definitions, callouts);
    }

    public MdevctlEnvironment Environment { get; }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public DefinitionStore Definitions { get; }

    public DeviceInventory Inventory { get; }

    public DeviceManager Manager { get; }

    /// <summary>A log line in mdevctl's format (env_logger's, at level WARN).</summary>
    public void Warn(string message) =>
        Error.Write($"[{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} WARN  mdevctl] {message}\n");

    /// <summary>Runs a command's body: checks the installation as mdevctl does, and renders failures as mdevctl does (exit 1).</summary>
    public static int Run(ParseResult parse, Option<string>? rootOption, Func<MdevctlContext, int> body)
    {
        var configuration = parse.InvocationConfiguration;
        var root = rootOption is not null ? parse.GetValue(rootOption) : null;
        var environment = root is not null ? new MdevctlEnvironment(root) : MdevctlEnvironment.FromEnvironment();
        var context = new MdevctlContext(environment, configuration.Output, configuration.Error);
        try
        {
            RootCheck.Check(environment, root is not null ? "--root" : MdevctlEnvironment.RootVariable, context.Warn, rootOption is not null);
            return body(context);
        }
        catch (MdevctlException e)
        {
            context.Error.Write(e.Render());
            return 1;
        }
    }

    /// <summary>Reads a <c>--jsonfile</c> (a file, or <c>/dev/stdin</c> from a pipe) once.</summary>
    public static (string Path, string Text)? ReadJsonFile(string? path)
    {
        if (path is null)
        {
            return null;
        }
        try
        {
            return (path, File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MdevctlException.Wrap($"Unable to read file \"{path}\"", e);
        }
    }
}
