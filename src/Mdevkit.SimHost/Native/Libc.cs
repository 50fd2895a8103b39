using System.Runtime.InteropServices;

namespace Mdevkit.SimHost.Native;

/// <summary>The libc calls the simulator's host needs: mounts, unmounts, probing a mount, resolving a path, the file-mode mask, and its log's descriptors.</summary>
internal static unsafe partial class Libc
{
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
