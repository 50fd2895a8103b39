using System.Runtime.InteropServices;

namespace Mdevkit.Fuse.Native;

/// <summary>The libc calls the mount makes besides libfuse's.</summary>
internal static unsafe partial class Libc
{
    /// <summary>Which CPUs a thread may run on; pid 0 is the calling thread.</summary>
    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int sched_setaffinity(int pid, nuint size, ulong* mask);

    /// <summary>Signal 0 to one thread of one thread group: sends nothing, and succeeds only if that thread is in that group.</summary>
    [LibraryImport("libc", EntryPoint = "tgkill")]
    public static partial int tgkill(int threadGroup, int thread, int signal);

    public const int EFD_CLOEXEC = 0x80000;
    public const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initial, int flags);

    /// <summary>fcntl(2) with an integer argument, for F_DUPFD_CLOEXEC.</summary>
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);
}
