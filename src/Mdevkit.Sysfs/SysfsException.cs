using System.Runtime.InteropServices;

namespace Mdevkit.Sysfs;

/// <summary>A failed sysfs operation, carrying the errno the kernel (or the filesystem) gave and the path.</summary>
public sealed class SysfsException : IOException
{
    internal SysfsException(Errno errno, string path, Exception? inner = null)
        : base($"{Describe(errno)}: {path}", inner)
    {
        Errno = errno;
        Path = path;
        HResult = (int)errno;
    }

    /// <summary>The errno, e.g. <see cref="Errno.EUSERS"/> from a <c>create</c> write on a full parent.</summary>
    public Errno Errno { get; }

    /// <summary>The file the operation was on.</summary>
    public string Path { get; }

    /// <summary>The C library's text for an errno, e.g. "Too many users".</summary>
    /// <param name="errno">An errno value.</param>
    /// <returns>The message strerror(3) gives.</returns>
    public static string Describe(Errno errno) => Marshal.GetPInvokeErrorMessage((int)errno);

    /// <summary>
    /// The errno behind a .NET I/O exception: the one place that maps them. On Linux most
    /// <see cref="IOException"/>s carry the raw errno in <see cref="Exception.HResult"/>; missing
    /// files and denied access come as their own exception types.
    /// </summary>
    /// <param name="exception">What a file API threw.</param>
    /// <returns>The errno, or <see cref="Errno.EIO"/> when none can be recovered.</returns>
    public static Errno ToErrno(Exception exception) => exception switch
    {
        SysfsException sysfs => sysfs.Errno,
        FileNotFoundException or DirectoryNotFoundException => Errno.ENOENT,
        UnauthorizedAccessException { InnerException: IOException inner } => ToErrno(inner),
        UnauthorizedAccessException => Errno.EACCES,
        PathTooLongException => Errno.ENAMETOOLONG,
        IOException { HResult: > 0 and < 4096 } io => (Errno)io.HResult,
        _ => Errno.EIO,
    };
}
