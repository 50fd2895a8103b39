using System.Runtime.InteropServices;

namespace Mdevkit.Sysfs.Native;

/// <summary>The few libc calls that read sysfs with one syscall per fact: small files (open, read, close) and links.</summary>
internal static unsafe partial class Libc
{
    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;
    public const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int close(int fd);

    [LibraryImport("libc", EntryPoint = "readlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint readlink(string path, byte* buffer, nint size);
}
