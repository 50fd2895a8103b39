using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// Where mdevctl's world lives below a root: the sysfs tree, the definitions in <c>etc/mdevctl.d</c>,
/// and the callout and notifier script directories (the current ones under <c>usr/lib</c>, the
/// deprecated ones under <c>etc</c>).
/// </summary>
public sealed class MdevctlEnvironment
{
    /// <summary>The variable mdevctl (1.3 and later) reads its root from.</summary>
    public const string RootVariable = "MDEVCTL_ENV_ROOT";

    /// <summary>Uses <paramref name="root"/> as <c>/</c>.</summary>
    public MdevctlEnvironment(string root = "/")
    {
        Sysfs = new SysfsRoot(root);
    }

    /// <summary>The root from <c>MDEVCTL_ENV_ROOT</c>, or <c>/</c>.</summary>
    public static MdevctlEnvironment FromEnvironment() =>
        new(Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } root ? root : "/");

    /// <summary>The sysfs side.</summary>
    public SysfsRoot Sysfs { get; }

    /// <summary>The root directory.</summary>
    public string Root => Sysfs.Root;

    /// <summary><c>etc/mdevctl.d</c>: one directory per parent, one file per defined device.</summary>
    public string ConfigDirectory => Sysfs.PathOf("etc/mdevctl.d");

    /// <summary>Callout script directories, in the order mdevctl consults them.</summary>
    public IReadOnlyList<string> CalloutDirectories => [Sysfs.PathOf("usr/lib/mdevctl/scripts.d/callouts"), Sysfs.PathOf("etc/mdevctl.d/scripts.d/callouts")];

    /// <summary>Notifier script directories.</summary>
    public IReadOnlyList<string> NotifierDirectories => [Sysfs.PathOf("usr/lib/mdevctl/scripts.d/notifiers"), Sysfs.PathOf("etc/mdevctl.d/scripts.d/notifiers")];
}
