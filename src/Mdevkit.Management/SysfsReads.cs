using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// Reads of the kernel's view from inside Management. A failure of sysfs itself (a dead FUSE mount gives
/// ENOTCONN, a denied directory EACCES) leaves as an <see cref="MdevctlException"/> naming the file, so that
/// callers of Management render one exception type; what Management expects (a vanished entry) it handles itself.
/// </summary>
internal static class SysfsReads
{
    public static T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (SysfsException e)
        {
            throw new MdevctlException($"{e.Path}: {MdevctlException.OsError(e.Errno)}");
        }
    }
}
