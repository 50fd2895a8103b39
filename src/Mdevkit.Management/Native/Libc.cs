using System.Runtime.InteropServices;

namespace Mdevkit.Management.Native;

/// <summary>The libc calls the root's lock needs: opening its file without .NET's own share emulation, and flock.</summary>
internal static partial class Libc
{
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;
    public const int LOCK_EX = 2;
    public const int EINTR = 4;
    // rw-r--r--
    public const uint ReadableByAll = 0b110_100_100;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int flock(int fd, int operation);
}
