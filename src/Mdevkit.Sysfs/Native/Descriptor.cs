using System.Runtime.InteropServices;

namespace Mdevkit.Sysfs.Native;

/// <summary>Opening files by descriptor: <c>openat(2)</c> retried when a signal interrupts it, failures as <see cref="SysfsException"/>.</summary>
internal static class Descriptor
{
    public static int Open(int directoryFd, string path, string? directory, int flags) =>
        TryOpen(directoryFd, path, flags, out var errno) is var fd and >= 0 ? fd : throw new SysfsException(errno, FullPath(directory, path));

    // openat(2), retried when a signal interrupts it; -1 and the errno on failure.
    public static int TryOpen(int directoryFd, string path, int flags, out Errno errno)
    {
        int fd;
        errno = Errno.None;
        while ((fd = Libc.openat(directoryFd, path, flags)) < 0)
        {
            errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                break;
            }
        }
        return fd;
    }

    public static string FullPath(string? directory, string path) => directory is null ? path : System.IO.Path.Join(directory, path);
}
