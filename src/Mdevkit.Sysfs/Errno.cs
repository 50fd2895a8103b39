namespace Mdevkit.Sysfs;

/// <summary>
/// Linux errno values (x86-64 and every other architecture mdevs exist on). Names stay C-style
/// because that is what users grep for in kernel logs and shell error messages.
/// </summary>
#pragma warning disable CA1707 // C names are the point here.
public enum Errno
{
    /// <summary>Success.</summary>
    None = 0,
    /// <summary>Operation not permitted.</summary>
    EPERM = 1,
    /// <summary>No such file or directory.</summary>
    ENOENT = 2,
    /// <summary>Interrupted system call.</summary>
    EINTR = 4,
    /// <summary>Input/output error.</summary>
    EIO = 5,
    /// <summary>Bad file descriptor.</summary>
    EBADF = 9,
    /// <summary>Resource temporarily unavailable.</summary>
    EAGAIN = 11,
    /// <summary>Cannot allocate memory.</summary>
    ENOMEM = 12,
    /// <summary>Permission denied.</summary>
    EACCES = 13,
    /// <summary>Device or resource busy.</summary>
    EBUSY = 16,
    /// <summary>File exists.</summary>
    EEXIST = 17,
    /// <summary>No such device.</summary>
    ENODEV = 19,
    /// <summary>Not a directory.</summary>
    ENOTDIR = 20,
    /// <summary>Is a directory.</summary>
    EISDIR = 21,
    /// <summary>Invalid argument.</summary>
    EINVAL = 22,
    /// <summary>File too large.</summary>
    EFBIG = 27,
    /// <summary>No space left on device.</summary>
    ENOSPC = 28,
    /// <summary>Read-only file system.</summary>
    EROFS = 30,
    /// <summary>Numerical result out of range.</summary>
    ERANGE = 34,
    /// <summary>File name too long.</summary>
    ENAMETOOLONG = 36,
    /// <summary>Function not implemented.</summary>
    ENOSYS = 38,
    /// <summary>Directory not empty.</summary>
    ENOTEMPTY = 39,
    /// <summary>Too many levels of symbolic links.</summary>
    ELOOP = 40,
    /// <summary>No data available (also ENOATTR for extended attributes).</summary>
    ENODATA = 61,
    /// <summary>Too many users: the mdev core's answer when a parent's instance counter is exhausted.</summary>
    EUSERS = 87,
    /// <summary>Operation not supported.</summary>
    EOPNOTSUPP = 95,
    /// <summary>Address already in use (vfio_ap: queue assigned to another mdev).</summary>
    EADDRINUSE = 98,
    /// <summary>Cannot assign requested address (vfio_ap: queue not reserved for vfio_ap).</summary>
    EADDRNOTAVAIL = 99,
    /// <summary>Transport endpoint is not connected (a FUSE mount whose server is gone).</summary>
    ENOTCONN = 107,
    /// <summary>Connection refused (a netlink multicast that no socket has joined).</summary>
    ECONNREFUSED = 111,
}
#pragma warning restore CA1707
