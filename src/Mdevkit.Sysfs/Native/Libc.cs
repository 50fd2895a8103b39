using System.Runtime.InteropServices;

namespace Mdevkit.Sysfs.Native;

/// <summary>
/// The few libc calls that read sysfs with one syscall per fact: small files (open, read, close), links and
/// directory entries; and those that open a file without following links or blocking, and say what it is.
/// </summary>
internal static unsafe partial class Libc
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    // The one flag here whose value differs between x86-64 (and the generic ABI) and arm64.
    public static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;
    // A descriptor that only names a directory for the *at calls; it needs search permission alone.
    public const int O_PATH = 0x200000;
    public const int AT_FDCWD = -100;
    public const int EINTR = 4;
    public const int ENOENT = 2;
    public const int ENOTDIR = 20;
    public const int ENOSYS = 38;
    public const int ELOOP = 40;

    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_UID = 0x8;
    public const int S_IFMT = 0xF000;
    public const int S_IFREG = 0x8000;
    public const int S_IFDIR = 0x4000;
    public const int S_IFLNK = 0xA000;

    // openat2(2) has no glibc wrapper; its number is the same on x86-64 and arm64.
    public const long SYS_openat2 = 437;
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    public const ulong RESOLVE_BENEATH = 0x08;

    [StructLayout(LayoutKind.Sequential)]
    public struct open_how
    {
        public ulong flags;
        public ulong mode;
        public ulong resolve;
    }

    // struct statx (named apart from the function), 256 bytes on every architecture; only the fields read here are named.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct statx_t
    {
        [FieldOffset(0)] public uint stx_mask;
        [FieldOffset(20)] public uint stx_uid;
        [FieldOffset(28)] public ushort stx_mode;
    }

    // struct dirent on 64-bit glibc: d_ino, d_off, d_reclen, d_type, then the name.
    public const int DirentNameOffset = 19;

    [LibraryImport("libc", EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int openat(int directoryFd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial long syscall(long number, int directoryFd, string path, open_how* how, nuint size);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int statx(int directoryFd, string path, int flags, uint mask, statx_t* buffer);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

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
