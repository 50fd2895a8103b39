using System.Runtime.InteropServices;
using Mdevkit.Management;
using Mdevkit.SimHost.Native;
using Mdevkit.Sysfs;

namespace Mdevkit.SimHost;

/// <summary>
/// Makes a running simulator the machine, inside a private mount namespace: its <c>sys</c> over <c>/sys</c>,
/// its definitions over <c>/etc/mdevctl.d</c>, its script and VFIO directories over the machine's where
/// those exist. Only for a process that has its own mount namespace (<c>unshare --mount</c>).
/// </summary>
public static class SimNamespace
{
    /// <summary>Binds the simulator's directories over the machine's.</summary>
    /// <exception cref="SimException">A directory to stand in for is missing, or a bind failed.</exception>
    public static void StandIn(SimRoot root)
    {
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
    }

    private static void Bind(string source, string target)
    {
        if (!Directory.Exists(target))
        {
            throw new SimException($"{target} does not exist on this machine, so the simulator's {source} cannot stand in for it (create it, or install Debian's mdevctl)");
        }
        if (Libc.mount(source, target, null, Libc.MS_BIND | Libc.MS_REC, 0) != 0)
        {
            throw new SimException($"cannot bind {source} on {target}: {SysfsException.Describe((Errno)Marshal.GetLastPInvokeError())}");
        }
    }
}
