using System.Runtime.InteropServices;

namespace Mdevkit.Sysfs;

/// <summary>What kind of file a path names.</summary>
public enum FileKind
{
    /// <summary>A regular file.</summary>
    RegularFile,
    /// <summary>A directory.</summary>
    Directory,
    /// <summary>A symbolic link (seen only where links are not followed).</summary>
    SymbolicLink,
    /// <summary>A FIFO, socket or device node.</summary>
    Other,
}

/// <summary>What <c>statx(2)</c> says about a file: its kind, permission bits and owner.</summary>
/// <param name="Kind">Regular file, directory, link or other.</param>
/// <param name="Permissions">The permission bits (with set-id and sticky bits).</param>
/// <param name="OwnerId">The owning user's id.</param>
public sealed record FileStatus(FileKind Kind, UnixFileMode Permissions, uint OwnerId)
{
    /// <summary>The status of the file a path leads to, following symbolic links.</summary>
    /// <param name="path">An absolute path.</param>
    /// <returns>Its status.</returns>
    /// <exception cref="SysfsException">The path cannot be looked up (ENOENT, EACCES…).</exception>
    public static FileStatus Of(string path) => Of(Native.Libc.AT_FDCWD, path, 0, path);

    // statx(2) on (directoryFd, path) with flags; an empty path with AT_EMPTY_PATH is the descriptor itself.
    internal static unsafe FileStatus Of(int directoryFd, string path, int flags, string pathForErrors)
    {
        Native.Libc.statx_t buffer;
        if (Native.Libc.statx(directoryFd, path, flags, Native.Libc.STATX_TYPE | Native.Libc.STATX_MODE | Native.Libc.STATX_UID, &buffer) != 0)
        {
            throw new SysfsException((Errno)Marshal.GetLastPInvokeError(), pathForErrors);
        }
        var kind = (buffer.stx_mode & Native.Libc.S_IFMT) switch
        {
            Native.Libc.S_IFREG => FileKind.RegularFile,
            Native.Libc.S_IFDIR => FileKind.Directory,
            Native.Libc.S_IFLNK => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, (UnixFileMode)(buffer.stx_mode & 0xFFF), buffer.stx_uid);
    }
}
