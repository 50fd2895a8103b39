using System.Runtime.InteropServices;

namespace Mdevkit.Agent.Native;

/// <summary>The one libc call .NET has no API for here: giving the socket to its group.</summary>
internal static partial class Libc
{
    // uid -1 leaves the owner as it is.
    public const uint KeepOwner = uint.MaxValue;

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int chown(string path, uint owner, uint group);
}
