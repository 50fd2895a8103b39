using Mdevkit.Management;
using Mdevkit.SimHost.Native;

namespace Mdevkit.SimHost;

/// <summary>
/// Makes a running simulator the machine, inside a private mount namespace: its <c>sys</c> over <c>/sys</c>,
/// its definitions over <c>/etc/mdevctl.d</c>, its script and VFIO directories over the machine's where
/// those exist; its network namespace, where its udev events are heard; and what libudev needs to listen
/// and to accept devices on the mount. Only for a process that has its own mount namespace (<c>unshare --mount</c>).
/// </summary>
public static class SimNamespace
{
    /// <summary>
    /// libudev (systemd's sd-device) accepts a device only on a filesystem whose statfs type is sysfs's unless
    /// this is 0, and a FUSE mount always reports FUSE's.
    /// </summary>
    public const string VerifySysfsVariable = "SYSTEMD_DEVICE_VERIFY_SYSFS";

    private const string UdevRunDirectory = "/run/udev";

    /// <summary>
    /// Enters the simulator's network namespace, binds its directories over the machine's, gives libudev a
    /// private <c>/run/udev</c> and sets <see cref="VerifySysfsVariable"/>. The network namespace is the calling
    /// thread's alone: the caller executes the command from this thread.
    /// </summary>
    /// <exception cref="SimException">The simulator has no network namespace, a directory to stand in for is missing, or a mount failed.</exception>
    public static void StandIn(SimRoot root)
    {
        EnterNetwork(root);
        Bind(root.Sys, "/sys");
        Bind(root.ConfigDirectory, "/" + MdevctlEnvironment.ConfigPath);
        // Only over an existing directory, as for /dev/vfio below. Without it, tools use the simulator's
        // script directories under /etc/mdevctl.d, the layout every mdevctl reads.
        var scripts = "/" + MdevctlEnvironment.ScriptPath;
        if (Directory.Exists(scripts))
        {
            Bind(root.ScriptDirectory, scripts);
        }
        // Only over an existing /dev/vfio: making one would change the machine's own /dev for everyone.
        if (Directory.Exists("/dev/vfio"))
        {
            Bind(Path.Join(root.Dev, "vfio"), "/dev/vfio");
        }
        PrivateUdevDirectory();
        if (Libc.setenv(VerifySysfsVariable, "0", 1) != 0)
        {
            throw new SimException($"cannot set {VerifySysfsVariable}: {Libc.LastError()}");
        }
    }

    private static void EnterNetwork(SimRoot root)
    {
        var descriptor = Libc.open(root.NetworkNamespace, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (descriptor < 0)
        {
            throw new SimException($"cannot open the simulator's network namespace {root.NetworkNamespace}: {Libc.LastError()}");
        }
        try
        {
            if (Libc.setns(descriptor, Libc.CLONE_NEWNET) != 0)
            {
                throw new SimException($"cannot enter the simulator's network namespace {root.NetworkNamespace}: {Libc.LastError()}");
            }
        }
        finally
        {
            _ = Libc.close(descriptor);
        }
    }

    // libudev listens for udev's events only if /run/udev/control exists (udevd's socket) or /dev is devtmpfs.
    // An empty tmpfs there, with an empty control file, also hides the machine's udev database, whose
    // records of real devices would otherwise be read for simulated ones of the same name. On a machine
    // without udev the empty /run/udev made as the mount point is the one trace left.
    private static void PrivateUdevDirectory()
    {
        Directory.CreateDirectory(UdevRunDirectory);
        if (Libc.mount("tmpfs", UdevRunDirectory, "tmpfs", 0, 0) != 0)
        {
            throw new SimException($"cannot mount a tmpfs on {UdevRunDirectory}: {Libc.LastError()}");
        }
        File.WriteAllBytes(Path.Join(UdevRunDirectory, "control"), []);
    }

    private static void Bind(string source, string target)
    {
        if (!Directory.Exists(target))
        {
            throw new SimException($"{target} does not exist on this machine, so the simulator's {source} cannot stand in for it (create it, or install Debian's mdevctl)");
        }
        if (Libc.mount(source, target, null, Libc.MS_BIND | Libc.MS_REC, 0) != 0)
        {
            throw new SimException($"cannot bind {source} on {target}: {Libc.LastError()}");
        }
    }
}
