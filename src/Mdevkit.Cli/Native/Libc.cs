using System.Runtime.InteropServices;

namespace Mdevkit.Cli.Native;

/// <summary>The libc call <c>sim exec</c> needs: replacing the process with a command.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport("libc", EntryPoint = "execvp", SetLastError = true)]
    public static partial int execvp(byte* file, byte** argv);
}
