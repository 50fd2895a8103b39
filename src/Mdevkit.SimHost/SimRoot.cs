using Mdevkit.Management;
using Mdevkit.Sysfs;

namespace Mdevkit.SimHost;

/// <summary>
/// The directory a running simulator makes into a complete root: the mounted <c>sys/</c>, real
/// <c>etc/mdevctl.d</c> and script directories, and its own control socket, pid and log under <c>run/mdevkit</c>.
/// </summary>
public sealed class SimRoot(string directory)
{
    /// <summary>Where <c>mdevkit sim up</c> puts the simulator when no <c>--root</c> is given.</summary>
    public const string DefaultDirectory = "/run/mdevkit/sim";

    /// <summary>The root with every symbolic link resolved, as the kernel names the mount points below it.</summary>
    public string Directory { get; } = Canonical(Path.GetFullPath(directory));

    public string Sys => Path.Join(Directory, SysfsPaths.Sys);

    /// <summary>The mounted device nodes: <c>dev/vfio/N</c>, one per mdev's IOMMU group.</summary>
    public string Dev => Path.Join(Directory, SysfsPaths.Dev);

    public string ConfigDirectory => Path.Join(Directory, MdevctlEnvironment.ConfigPath);

    public string ScriptDirectory => Path.Join(Directory, MdevctlEnvironment.ScriptPath);

    public string RunDirectory => Path.Join(Directory, MdevkitPaths.RunDirectory);

    public string Socket => Path.Join(RunDirectory, "sim.sock");

    public string Log => Path.Join(RunDirectory, "sim.log");

    /// <summary>The simulator's network namespace, bound on this file while it runs: where its udev events go out, and what <c>sim exec</c> enters.</summary>
    public string NetworkNamespace => Path.Join(Directory, MdevkitPaths.NetworkNamespace);

    /// <summary>The real directories next to the mount: definitions and both layouts' script directories.</summary>
    public IEnumerable<string> RealDirectories =>
    [
        .. MdevctlEnvironment.ScriptLayouts.SelectMany(layout => new[] { layout.Callouts, layout.Notifiers }).Select(path => Path.Join(Directory, path)),
        RunDirectory,
    ];

    /// <summary>
    /// Makes the root's real directories, each missing component with mode 0755 whatever the umask:
    /// callout directories another user could write to would let them plant scripts that root runs.
    /// </summary>
    public void CreateDirectories()
    {
        foreach (var directory in RealDirectories)
        {
            CreateDirectory(directory);
        }
    }

    /// <summary>Makes the mount points, as <see cref="CreateDirectories"/> does; only once what a killed simulator left there is detached.</summary>
    public void CreateMountPoints()
    {
        foreach (var mountPoint in MountPoints)
        {
            CreateDirectory(mountPoint);
        }
    }

    private static void CreateDirectory(string path)
    {
        if (Path.Exists(path))
        {
            return;
        }
        CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, MdevkitPaths.SharedDirectoryMode);
    }

    /// <summary>
    /// Forgets what mdevkit recorded about the running kernel under <c>run/</c>, which a real reboot clears with its
    /// tmpfs: the names of vendor-VFIO vGPUs and an unfinished transaction's journal. The simulator's own files stay.
    /// </summary>
    public void ForgetRunningKernel()
    {
        var vgpus = Path.Join(Directory, MdevkitPaths.VendorVgpuDirectory);
        if (System.IO.Directory.Exists(vgpus))
        {
            System.IO.Directory.Delete(vgpus, recursive: true);
        }
        File.Delete(Path.Join(Directory, MdevkitPaths.TransactionJournal));
    }

    /// <summary>The mount points the simulator serves: its <c>sys</c> and <c>dev</c>.</summary>
    public IEnumerable<string> MountPoints => [Sys, Dev];

    // Resolves the part of the path that exists (a root is often created by 'sim up' itself).
    private static string Canonical(string path)
    {
        var existing = path;
        var missing = new Stack<string>();
        while (!Path.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            missing.Push(Path.GetFileName(existing));
            existing = parent;
        }
        return Path.Join([Native.Libc.RealPath(existing) ?? existing, .. missing]);
    }
}
