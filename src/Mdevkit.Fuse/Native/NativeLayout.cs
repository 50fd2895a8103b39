using System.Runtime.InteropServices;

namespace Mdevkit.Fuse.Native;

/// <summary>
/// The architectures whose C layouts (<c>struct stat</c>, <c>timespec</c>, libfuse's structs) the
/// declarations in this folder match; a test compiles the headers and compares them on each.
/// </summary>
internal static class NativeLayout
{
    /// <summary>Architectures checked against glibc's and libfuse3's headers.</summary>
    public static IReadOnlyList<Architecture> Checked { get; } = [Architecture.X64];

    /// <exception cref="FuseException">This process runs on an architecture whose layouts were never checked.</exception>
    public static void RequireChecked()
    {
        var architecture = RuntimeInformation.ProcessArchitecture;
        if (!Checked.Contains(architecture))
        {
            // struct stat differs between architectures (aarch64 has no __pad0 and a 32-bit st_nlink): a wrong
            // layout would hand the kernel garbage instead of failing.
            throw new FuseException($"the FUSE mount is not available on {architecture}: its C structure layouts were checked on {string.Join(", ", Checked)} only");
        }
    }
}
