using System.Runtime.InteropServices;
using Mdevkit.SimHost.Native;
using Mdevkit.Sysfs;

namespace Mdevkit.SimHost;

/// <summary>
/// The simulator's FUSE mounts as the kernel lists them: which roots have a simulator serving, and
/// detaching what a simulator that was killed left behind (its mounts answer every request with ENOTCONN).
/// </summary>
public static class SimMounts
{
    /// <summary>The filesystem type mountinfo gives the simulator's mounts (FUSE's "fuse." and the mount's subtype).</summary>
    private const string FileSystemType = "fuse." + Fuse.FuseMount.Subtype;

    /// <summary>The roots whose <c>sys</c> a live simulator serves now.</summary>
    public static IReadOnlyList<string> ServedRoots() =>
    [
        .. MountTable.Read()
            .Where(mount => mount.FileSystemType == FileSystemType && Path.GetFileName(mount.MountPoint) == SysfsPaths.Sys && IsServed(mount.MountPoint))
            .Select(mount => Path.GetDirectoryName(mount.MountPoint)!)
            .Distinct(StringComparer.Ordinal),
    ];

    /// <summary>Whether <paramref name="mountPoint"/> is a simulator's mount whose server is gone.</summary>
    public static bool IsDead(string mountPoint) =>
        MountTable.Read().Any(mount => mount.MountPoint == mountPoint && mount.FileSystemType == FileSystemType) && !IsServed(mountPoint);

    /// <summary>
    /// Detaches those of the root's mount points that are mounted but no longer served, and then the network
    /// namespace's bind mount, which only a running simulator keeps (one that serves its mounts stops this first).
    /// </summary>
    /// <returns>The mount points detached.</returns>
    /// <exception cref="SimException">A mount point is served (a simulator runs), or a dead one cannot be detached.</exception>
    public static IReadOnlyList<string> DetachDead(SimRoot root)
    {
        var mounted = MountTable.Read().Select(mount => mount.MountPoint).ToHashSet(StringComparer.Ordinal);
        var detached = new List<string>();
        foreach (var mountPoint in root.MountPoints.Where(mounted.Contains))
        {
            if (IsServed(mountPoint))
            {
                throw new SimException($"{mountPoint} is already mounted: is a simulator running? ('mdevkit sim status --root {root.Directory}')");
            }
            Detach(mountPoint, "stale mount");
            detached.Add(mountPoint);
        }
        if (mounted.Contains(root.NetworkNamespace))
        {
            Detach(root.NetworkNamespace, "stale network namespace mount");
            detached.Add(root.NetworkNamespace);
        }
        return detached;
    }

    private static void Detach(string mountPoint, string what)
    {
        if (Libc.umount2(mountPoint, Libc.MNT_DETACH) != 0)
        {
            throw new SimException($"{mountPoint} is a {what} and cannot be unmounted: {Libc.LastError()}");
        }
    }

    // Only a request to the FUSE server tells a live mount from a dead one; the mount point's own access() does not.
    private static bool IsServed(string mountPoint)
    {
        var directory = Libc.opendir(mountPoint);
        if (directory != 0)
        {
            _ = Libc.closedir(directory);
            return true;
        }
        return (Errno)Marshal.GetLastPInvokeError() != Errno.ENOTCONN;
    }
}
