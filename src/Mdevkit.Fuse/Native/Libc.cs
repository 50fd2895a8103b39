using System.Runtime.InteropServices;

namespace Mdevkit.Fuse.Native;

/// <summary>The libc calls the mount makes besides libfuse's.</summary>
internal static partial class Libc
{
    /// <summary>Signal 0 to one thread of one thread group: sends nothing, and succeeds only if that thread is in that group.</summary>
    [LibraryImport("libc", EntryPoint = "tgkill")]
    public static partial int tgkill(int threadGroup, int thread, int signal);
}
