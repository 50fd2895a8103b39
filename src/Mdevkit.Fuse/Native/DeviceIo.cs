using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mdevkit.Sysfs;

namespace Mdevkit.Fuse.Native;

/// <summary>
/// How libfuse reads requests from and writes answers to <c>/dev/fuse</c> (its custom I/O): plain
/// <c>read</c>/<c>writev</c>, with the mount's <see cref="FuseRing"/> looking at the connection's first
/// exchange and taking the answers to the requests it carries itself.
/// </summary>
internal static unsafe partial class DeviceIo
{
    public static fuse_custom_io Operations() => new() { read = &Read, writev = &WriteV };

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint Read(int fd, byte* buffer, nuint length, nint userdata)
    {
        var count = read(fd, buffer, length);
        if (count < 0)
        {
            // libfuse reads errno: ENODEV ends its loop, ENOENT and EINTR are retried.
            Marshal.SetLastSystemError(Marshal.GetLastPInvokeError());
            return -1;
        }
        try
        {
            RingOf(userdata).Received(buffer, count);
        }
        catch (Exception e)
        {
            MountOf(userdata).Warn($"reading a request failed: {e}");
        }
        return count;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint WriteV(int fd, iovec* vector, int count, nint userdata)
    {
        try
        {
            var written = RingOf(userdata).Write(fd, vector, count);
            if (written < 0)
            {
                Marshal.SetLastSystemError(-(int)written);
                return -1;
            }
            return written;
        }
        catch (Exception e)
        {
            MountOf(userdata).Warn($"writing an answer failed: {e}");
            Marshal.SetLastSystemError((int)Errno.EIO);
            return -1;
        }
    }

    /// <summary><c>writev(2)</c> onto the device.</summary>
    /// <returns>The bytes written, or a negated errno.</returns>
    public static nint WriteDevice(int fd, iovec* vector, int count)
    {
        var written = writev(fd, vector, count);
        return written < 0 ? -Marshal.GetLastPInvokeError() : written;
    }

    private static FuseMount MountOf(nint userdata) => (FuseMount)GCHandle.FromIntPtr(userdata).Target!;

    private static FuseRing RingOf(nint userdata) => MountOf(userdata).Ring;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, byte* buffer, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint writev(int fd, iovec* vector, int count);
}
