using System.Runtime.InteropServices;

namespace Mdevkit.SimHost.Native;

/// <summary>
/// The libc calls the simulator's host needs: mounts, unmounts, probing a mount, resolving a path, the file-mode
/// mask, its log's descriptors, and the network namespace udev's events go out in.
/// </summary>
internal static unsafe partial class Libc
{
    public const int CLONE_NEWNET = 0x40000000;
    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;

    /// <summary>The C library's text for the errno the last call left.</summary>
    public static string LastError() => Mdevkit.Sysfs.SysfsException.Describe((Mdevkit.Sysfs.Errno)Marshal.GetLastPInvokeError());

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int setns(int descriptor, int namespaceType);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int close(int descriptor);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int setenv(string name, string value, int overwrite);

    public const ulong MS_BIND = 4096;
    public const ulong MS_REC = 16384;
    public const int MNT_DETACH = 2;
    public const int STDERR_FILENO = 2;

    [LibraryImport("libc", EntryPoint = "opendir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint opendir(string path);

    [LibraryImport("libc", EntryPoint = "closedir")]
    public static partial int closedir(nint directory);

    [LibraryImport("libc", EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int mount(string? source, string target, string? type, ulong flags, nint data);

    [LibraryImport("libc", EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void free(nint pointer);

    /// <summary>The path with every symbolic link, <c>.</c> and <c>..</c> resolved, or null when it cannot be (it does not exist).</summary>
    public static string? RealPath(string path)
    {
        var resolved = realpath(path, 0);
        if (resolved == 0)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    public static partial uint umask(uint mask);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int dup2(int oldDescriptor, int newDescriptor);
}
