using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// Where mdevctl's world lives below a root: the sysfs tree, the definitions in <c>etc/mdevctl.d</c>,
/// and the callout and notifier script directories. The one place that spells mdevctl's directories.
/// </summary>
/// <remarks>
/// Two script layouts exist: mdevctl 1.3 and later keep scripts in <c>usr/lib/mdevctl/scripts.d</c> and still
/// read the deprecated <c>etc/mdevctl.d/scripts.d</c>; 1.1 and 1.2 (Debian 12) know only the latter. A
/// drop-in must run wherever either mdevctl runs, so either layout makes an installation.
/// </remarks>
public sealed class MdevctlEnvironment
{
    /// <summary>The variable mdevctl (1.3 and later) reads its root from.</summary>
    public const string RootVariable = "MDEVCTL_ENV_ROOT";

    /// <summary>The definitions directory, relative to the root.</summary>
    public const string ConfigPath = "etc/mdevctl.d";

    /// <summary>The script directory of mdevctl 1.3 and later, relative to the root.</summary>
    public const string ScriptPath = "usr/lib/mdevctl/scripts.d";

    /// <summary>The script directory of mdevctl 1.1 and 1.2, deprecated since, relative to the root.</summary>
    public const string LegacyScriptPath = ConfigPath + "/" + ScriptsDirectoryName;

    /// <summary>The name of the script directory inside <c>etc/mdevctl.d</c>, which is not a parent's.</summary>
    public const string ScriptsDirectoryName = "scripts.d";

    /// <summary>The script layouts, in the order mdevctl consults them: each a (callouts, notifiers) pair of root-relative directories.</summary>
    public static IReadOnlyList<(string Callouts, string Notifiers)> ScriptLayouts { get; } =
        [.. new[] { ScriptPath, LegacyScriptPath }.Select(path => (path + "/callouts", path + "/notifiers"))];

    /// <summary>Uses <paramref name="root"/> as <c>/</c>.</summary>
    /// <param name="root">The directory used as <c>/</c>.</param>
    /// <param name="warn">Where every warning of every operation on this root goes (mdevctl logs them); none are kept when null.</param>
    public MdevctlEnvironment(string root = "/", Action<string>? warn = null)
    {
        Sysfs = new SysfsRoot(root);
        Warn = warn ?? (_ => { });
    }

    /// <summary>The root from <c>MDEVCTL_ENV_ROOT</c>, or <c>/</c>.</summary>
    /// <param name="warn">As for the constructor.</param>
    public static MdevctlEnvironment FromEnvironment(Action<string>? warn = null) =>
        new(Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } root ? root : "/", warn);

    /// <summary>The one sink for warnings: the definitions, callouts, operations and transactions on this root all report here.</summary>
    public Action<string> Warn { get; }

    /// <summary>The sysfs side.</summary>
    public SysfsRoot Sysfs { get; }

    /// <summary>The root directory.</summary>
    public string Root => Sysfs.Root;

    /// <summary><c>etc/mdevctl.d</c>: one directory per parent, one file per defined device.</summary>
    public string ConfigDirectory => Sysfs.PathOf(ConfigPath);

    /// <summary>Callout script directories, in the order mdevctl consults them.</summary>
    public IReadOnlyList<string> CalloutDirectories => [.. ScriptLayouts.Select(layout => Sysfs.PathOf(layout.Callouts))];

    /// <summary>Notifier script directories.</summary>
    public IReadOnlyList<string> NotifierDirectories => [.. ScriptLayouts.Select(layout => Sysfs.PathOf(layout.Notifiers))];

    /// <summary>
    /// Refuses to work on a root that is not an mdevctl installation, as mdevctl does: <c>etc/mdevctl.d</c>
    /// must exist, and the callout and notifier directories of at least one script layout.
    /// </summary>
    /// <exception cref="MdevctlException">mdevctl's message, naming the first missing directory (of the current layout when neither is complete).</exception>
    public void CheckInstallation()
    {
        if (MissingDirectory() is { } missing)
        {
            throw new MdevctlException($"Required directory \"{missing}\" doesn't exist. This may indicate a packaging or installation error");
        }
    }

    /// <summary>Whether <see cref="CheckInstallation"/> would pass.</summary>
    public bool IsInstalled => MissingDirectory() is null;

    /// <summary>Whether any parent is registered or any device defined: an installation in use.</summary>
    /// <exception cref="MdevctlException">sysfs or the configuration directory cannot be read.</exception>
    public bool HasParentsOrDefinitions()
    {
        if (SysfsReads.Read(Sysfs.GetParentNames).Count > 0)
        {
            return true;
        }
        try
        {
            return Directory.EnumerateDirectories(ConfigDirectory).Any(directory => Path.GetFileName(directory) != ScriptsDirectoryName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MdevctlException.Wrap($"Unable to read {ConfigDirectory}", e);
        }
    }

    private string? MissingDirectory()
    {
        if (!Directory.Exists(ConfigDirectory))
        {
            return ConfigDirectory;
        }
        var layouts = ScriptLayouts.Select(layout => new[] { Sysfs.PathOf(layout.Callouts), Sysfs.PathOf(layout.Notifiers) }).ToArray();
        return layouts.Any(layout => layout.All(Directory.Exists)) ? null : layouts[0].First(directory => !Directory.Exists(directory));
    }
}
