using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Mdevkit.Management.Native;
using Mdevkit.Sysfs;
using Microsoft.Win32.SafeHandles;

namespace Mdevkit.Management;

/// <summary>
/// The one lock of a root, for everything that changes definitions, groups or mdevkit's state: an exclusive
/// <c>flock(2)</c> on <c>run/mdevkit/lock</c>, held for a whole read-check-write or transaction, so whoever comes
/// second waits and then sees what the first one did. The kernel drops the lock with its holder's last descriptor,
/// so a killed command never leaves the root locked.
/// </summary>
/// <remarks>
/// The thread that holds it may take it again (a transaction's steps take it too). Callout scripts run while it is
/// held, and a script may run mdevkit on the same root: scripts are told the held lock in
/// <see cref="HeldVariable"/>, and an mdevkit started so works under its caller's lock, since the caller waits for
/// the script and would otherwise wait forever.
/// </remarks>
public sealed class RootLock : IDisposable
{
    /// <summary>Set for callout scripts run under the lock: the lock file's canonical path.</summary>
    public const string HeldVariable = "MDEVKIT_ROOT_LOCK";

    private static readonly ConcurrentDictionary<string, Holding> s_holdings = new(StringComparer.Ordinal);
    private readonly Holding _holding;
    private bool _released;

    private RootLock(Holding holding)
    {
        _holding = holding;
    }

    // One per lock file in this process: the threads' gate, and the descriptor that carries the flock.
    private sealed class Holding
    {
        public readonly Lock Gate = new();
        public int Depth;
        public bool Borrowed;
        public SafeFileHandle? File;
        public string CanonicalPath = "";
    }

    /// <summary>Takes the root's lock, waiting while another process or thread holds it.</summary>
    /// <exception cref="MdevctlException">The lock file cannot be made or locked.</exception>
    public static RootLock Acquire(MdevctlEnvironment environment)
    {
        var path = Path.GetFullPath(environment.Sysfs.PathOf(MdevkitPaths.LockFile));
        var holding = s_holdings.GetOrAdd(path, _ => new Holding());
        holding.Gate.Enter();
        try
        {
            if (holding.Depth == 0)
            {
                Lock(holding, path);
            }
            holding.Depth++;
        }
        catch
        {
            holding.Gate.Exit();
            throw;
        }
        return new RootLock(holding);
    }

    /// <summary>The value of <see cref="HeldVariable"/> for a script started now: the lock, when this thread holds it.</summary>
    public static string? HeldByCurrentThread(MdevctlEnvironment environment) =>
        s_holdings.TryGetValue(Path.GetFullPath(environment.Sysfs.PathOf(MdevkitPaths.LockFile)), out var holding)
        && holding.Gate.IsHeldByCurrentThread && holding.Depth > 0
            ? holding.CanonicalPath
            : null;

    /// <summary>Whether the lock is a callout script's caller's (<see cref="HeldVariable"/>): held for a transaction of the caller's.</summary>
    public bool IsBorrowed => _holding.Borrowed;

    /// <summary>Releases this hold; the lock goes with the outermost one.</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }
        _released = true;
        if (--_holding.Depth == 0)
        {
            _holding.File?.Dispose();
            _holding.File = null;
        }
        _holding.Gate.Exit();
    }

    private static void Lock(Holding holding, string path)
    {
        var file = Open(path);
        // The descriptor's own link names the file however the root was spelled.
        holding.CanonicalPath = new FileInfo($"/proc/self/fd/{file.DangerousGetHandle()}").LinkTarget ?? path;
        holding.Borrowed = Environment.GetEnvironmentVariable(HeldVariable) == holding.CanonicalPath;
        if (holding.Borrowed)
        {
            // A callout script's mdevkit: the command that runs the script holds the lock and waits for it.
            file.Dispose();
            return;
        }
        while (Libc.flock((int)file.DangerousGetHandle(), Libc.LOCK_EX) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR)
            {
                file.Dispose();
                throw Failure(path, errno);
            }
        }
        holding.File = file;
    }

    private static SafeFileHandle Open(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!, MdevkitPaths.SharedDirectoryMode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MdevctlException.Wrap(FailureMessage(path), e);
        }
        // Not a FileStream: .NET's own share locks would make a second opener fail instead of wait.
        var fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, Libc.ReadableByAll);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw Failure(path, Marshal.GetLastPInvokeError());
    }

    private static MdevctlException Failure(string path, int errno) =>
        new(FailureMessage(path), MdevctlException.OsError((Errno)errno));

    private static string FailureMessage(string path) => $"Cannot take the lock {path}";
}
