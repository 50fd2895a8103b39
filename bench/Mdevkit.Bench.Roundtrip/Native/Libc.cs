using System.Runtime.InteropServices;

namespace Mdevkit.Bench.Roundtrip.Native;

/// <summary>The syscalls a tool writing to sysfs makes, called directly so that nothing else is timed.</summary>
internal static unsafe partial class Libc
{
    public const int O_WRONLY = 1;
    public const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);
}
