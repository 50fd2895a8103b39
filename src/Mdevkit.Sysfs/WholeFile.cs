using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Mdevkit.Sysfs;

/// <summary>
/// Whole small files, read at once: sysfs attributes (through <see cref="SysfsRoot"/>), and the other small
/// files of a host that the stack reads (definitions, <c>/proc</c> entries). Every read is bounded, and a
/// file that must be regular is never opened in a way that could block or act on a device.
/// </summary>
public static class WholeFile
{
    // What sysfs gives an attribute at most, and so the first read's size.
    private const int PageSize = 4096;

    /// <summary>
    /// Reads a whole file. An attribute gives all of its text to one read, so a short read is the end:
    /// open, read, close, nothing more, which is what makes large listings fast.
    /// </summary>
    /// <param name="path">An absolute path.</param>
    /// <returns>The whole text.</returns>
    /// <exception cref="SysfsException">With the errno of the failure; <see cref="Errno.EFBIG"/> past <see cref="MaxLength"/>.</exception>
    public static string Read(string path) => Read(Native.Libc.AT_FDCWD, path, null);

    /// <summary>
    /// The most <see cref="Read(string)"/> reads: far beyond any attribute or definition, and far below what
    /// a string can hold, so a huge file fails with an errno instead of exhausting memory.
    /// </summary>
    public const int MaxLength = 64 << 20;

    /// <summary>
    /// Reads a whole file as <see cref="Read(string)"/> does, if it is a regular file. Anything else (a symbolic
    /// link, dangling or not, a FIFO, a socket, a device node, a directory) is never opened in a way that could
    /// block or act on a device: it is looked at without following links, and opened without following or blocking.
    /// </summary>
    /// <param name="path">An absolute path.</param>
    /// <param name="text">The whole text, when it is a regular file.</param>
    /// <returns>Whether the path names a regular file.</returns>
    /// <exception cref="SysfsException">With the errno of the failure; ENOENT when there is nothing at the path.</exception>
    public static bool TryReadRegular(string path, out string text)
    {
        text = "";
        if (FileStatus.Of(Native.Libc.AT_FDCWD, path, Native.Libc.AT_SYMLINK_NOFOLLOW, path).Kind != FileKind.RegularFile)
        {
            return false;
        }
        // The file may have been replaced since it was looked at: what is opened is checked again.
        var fd = Native.Descriptor.TryOpen(Native.Libc.AT_FDCWD, path, Native.Libc.O_RDONLY | Native.Libc.O_NOFOLLOW | Native.Libc.O_NONBLOCK | Native.Libc.O_CLOEXEC, out var errno);
        if (fd < 0)
        {
            return errno == Errno.ELOOP ? false : throw new SysfsException(errno, path);
        }
        var isRegular = false;
        try
        {
            isRegular = FileStatus.Of(fd, "", Native.Libc.AT_EMPTY_PATH, path).Kind == FileKind.RegularFile;
        }
        finally
        {
            if (!isRegular)
            {
                _ = Native.Libc.close(fd);
            }
        }
        if (!isRegular)
        {
            return false;
        }
        text = ReadAndClose(fd, path, null);
        return true;
    }

    // Reads a file named relative to an open directory (or AT_FDCWD); directory names it in errors.
    internal static string Read(int directoryFd, string path, string? directory) =>
        ReadAndClose(Native.Descriptor.Open(directoryFd, path, directory, Native.Libc.O_RDONLY | Native.Libc.O_CLOEXEC), path, directory);

    private static unsafe string ReadAndClose(int fd, string path, string? directory)
    {
        // A pooled buffer: a listing reads thousands of files, and fresh pages for each cost more than the reads.
        var buffer = ArrayPool<byte>.Shared.Rent(PageSize);
        try
        {
            var length = 0;
            while (true)
            {
                nint count;
                fixed (byte* start = &buffer[length])
                {
                    count = Native.Libc.read(fd, start, buffer.Length - length);
                }
                if (count < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Native.Libc.EINTR)
                    {
                        continue;
                    }
                    throw new SysfsException((Errno)errno, Native.Descriptor.FullPath(directory, path));
                }
                length += (int)count;
                if (count == 0 || length < buffer.Length)
                {
                    return Encoding.UTF8.GetString(buffer, 0, length);
                }
                if (length >= MaxLength)
                {
                    throw new SysfsException(Errno.EFBIG, Native.Descriptor.FullPath(directory, path));
                }
                var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            // Nothing was written through fd, so a failing close loses nothing.
            _ = Native.Libc.close(fd);
        }
    }
}
