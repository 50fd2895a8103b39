using System.CommandLine;
using System.Text;
using Mdevkit.Management;
using Mdevkit.Sysfs;

namespace Mdevkit.Cli.Mdevctl;

/// <summary>
/// What every mdevctl-compatible command needs: the environment (root from <c>--root</c> or
/// <c>MDEVCTL_ENV_ROOT</c>), the managers over it, and the writers. Errors are rendered here, once.
/// </summary>
internal sealed class MdevctlContext
{
    private MdevctlContext(MdevctlEnvironment environment, TextWriter output, TextWriter error, bool asMdevkit)
    {
        Environment = environment;
        Output = output;
        Error = error;
        Host = new ManagedHost(environment, error, vendorVfio: asMdevkit);
    }

    public MdevctlEnvironment Environment { get; }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    /// <summary>Every manager over the root.</summary>
    public ManagedHost Host { get; }

    public DefinitionStore Definitions => Host.Definitions;

    public DeviceInventory Inventory => Host.Inventory;

    public DeviceManager Manager => Host.Manager;

    /// <summary>A warning, through the environment's one sink: a log line in mdevctl's format.</summary>
    public void Warn(string message) => Environment.Warn(message);

    // env_logger's format, at level WARN, as mdevctl logs.
    private static Action<string> Log(TextWriter error) => message =>
        error.Write($"[{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} WARN  mdevctl] {message}\n");

    /// <summary>Runs a command's body: checks the installation as mdevctl does, and renders failures as mdevctl does (exit 1).</summary>
    public static int Run(ParseResult parse, Option<string>? rootOption, Func<MdevctlContext, int> body)
    {
        var configuration = parse.InvocationConfiguration;
        var root = rootOption is not null ? parse.GetValue(rootOption) : null;
        var environment = root is not null ? new MdevctlEnvironment(root, Log(configuration.Error)) : MdevctlEnvironment.FromEnvironment(Log(configuration.Error));
        // Only mdevkit's command line has --root; as mdevctl the commands see what mdevctl sees.
        var context = new MdevctlContext(environment, configuration.Output, configuration.Error, asMdevkit: rootOption is not null);
        try
        {
            RootCheck.Check(environment, root is not null ? "--root" : MdevctlEnvironment.RootVariable, context.Warn, rootOption is not null);
            return body(context);
        }
        catch (MdevctlException e)
        {
            context.Error.Write(RootCheck.KilledSimulator(environment) ?? e.Render());
            return 1;
        }
    }

    /// <summary>The most a <c>--jsonfile</c> may hold: a device's configuration is a few hundred bytes.</summary>
    public const int MaxJsonFileLength = 1 << 20;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a <c>--jsonfile</c> (a file, or <c>/dev/stdin</c> from a pipe) once.</summary>
    public static (string Path, string Text)? ReadJsonFile(string? path)
    {
        if (path is null)
        {
            return null;
        }
        var failure = $"Unable to read file \"{path}\"";
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            // One byte past the limit tells a file that is too large without reading all of it.
            bytes = new byte[MaxJsonFileLength + 1];
            var length = file.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (length > MaxJsonFileLength)
            {
                throw new MdevctlException(failure, $"{MdevctlException.OsError(Errno.EFBIG)}: a device configuration is at most {MaxJsonFileLength} bytes");
            }
            bytes = bytes[..length];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MdevctlException.Wrap(failure, e);
        }
        try
        {
            return (path, s_strictUtf8.GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            throw new MdevctlException(failure, "stream did not contain valid UTF-8");
        }
    }
}
