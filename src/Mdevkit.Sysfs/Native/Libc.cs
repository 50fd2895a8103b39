using System.Runtime.InteropServices;

namespace Mdevkit.Sysfs.Native;

/// <summary>The few libc calls that read sysfs with one syscall per fact: small files (open, read, close), links and directory entries.</summary>
internal static unsafe partial class Libc
{
    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;
    // A descriptor that only names a directory for the *at calls; it needs search permission alone.
    public const int O_PATH = 0x200000;
    public const int AT_FDCWD = -100;
    public const int EINTR = 4;
    public const int ENOENT = 2;
    public const int ENOTDIR = 20;

    // struct dirent on 64-bit glibc: d_ino, d_off, d_reclen, d_type, then the name.
    public const int DirentNameOffset = 19;

    [LibraryImport("libc", EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int openat(int directoryFd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int close(int fd);

    [LibraryImport("libc", EntryPoint = "readlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint readlink(string path, byte* buffer, nint size);

    [LibraryImport("libc", EntryPoint = "opendir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint opendir(string path);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    public static partial byte* readdir(nint directory);

    [LibraryImport("libc", EntryPoint = "closedir")]
    public static partial int closedir(nint directory);
}
