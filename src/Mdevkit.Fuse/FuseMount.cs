using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.Fuse.Native;
using Mdevkit.Simulation.Tree;

namespace Mdevkit.Fuse;

/// <summary>A FUSE mount could not be made or served; the message says why.</summary>
public sealed class FuseException(string message) : Exception(message);

/// <summary>
/// A directory of a <see cref="SysfsTree"/> mounted as a real filesystem through libfuse3. Nothing is
/// cached by the kernel (zero timeouts, direct I/O), so a device created in the tree is visible at once.
/// Requests are served on libfuse's worker threads; the tree is thread-safe.
/// </summary>
/// <remarks>
/// A request the tree answers only later (a <c>remove</c> waiting for the holder of an open device) keeps
/// its worker until then, as the high-level API replies when the callback returns. libfuse's default limit
/// of 10 workers would let ten such writes stop every other request of the mount; the limit is
/// <see cref="MaxWorkers"/> instead, and workers beyond <see cref="MaxIdleWorkers"/> end once idle.
/// </remarks>
public sealed unsafe class FuseMount : IDisposable
{
    /// <summary>The subtype the mounts carry: mountinfo lists them as <c>fuse.mdevkit-sim</c>.</summary>
    public const string Subtype = "mdevkit-sim";

    // Mount options libfuse parses in fuse_new: everyone may look (sysfs is world-readable; the tree
    // checks permissions itself). Caching is switched off in the init callback.
    private const string Options = "fsname=mdevkit,subtype=" + Subtype + ",allow_other";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How many requests the mount serves at once, blocked ones included.</summary>
    public const uint MaxWorkers = 1024;

    /// <summary>How many idle workers stay for the next requests.</summary>
    public const uint MaxIdleWorkers = 16;

    private readonly GCHandle _self;
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _loopEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly nint _operations;
    private readonly nint _fuse;
    private int _unmounted;

    private FuseMount(SysfsTree tree, string treeDirectory, string mountPoint, Action<string> warn)
    {
        MountPoint = Path.GetFullPath(mountPoint);
        Warn = warn;
        FileSystem = new SysfsFileSystem(tree, treeDirectory);
        _self = GCHandle.Alloc(this);
        _operations = (nint)NativeMemory.AllocZeroed((nuint)sizeof(fuse_operations));
        *(fuse_operations*)_operations = Callbacks.Operations();
        _fuse = New(_operations, GCHandle.ToIntPtr(_self));
        if (_fuse == 0)
        {
            Free();
            throw new FuseException("fuse_new failed (is libfuse3 installed? Debian package libfuse3-3)");
        }
        if (LibFuse.fuse_mount(_fuse, MountPoint) != 0)
        {
            LibFuse.fuse_destroy(_fuse);
            Free();
            throw new FuseException($"cannot mount on {MountPoint} (needs /dev/fuse and root or fusermount3; Debian package fuse3)");
        }
        var loop = new Thread(Serve)
        {
            IsBackground = true,
            Name = "fuse " + MountPoint,
        };
        loop.Start();
    }

    /// <summary>Where the tree is mounted.</summary>
    public string MountPoint { get; }

    internal SysfsFileSystem FileSystem { get; }

    // Where the mount tells what went wrong while serving: a request that failed on a bug, a mount left in use.
    internal Action<string> Warn { get; }

    /// <summary>Completes when the mount stops serving (unmounted by us or by someone else).</summary>
    public Task Ended => _loopEnded.Task;

    /// <summary>
    /// Mounts <paramref name="treeDirectory"/> of <paramref name="tree"/> (e.g. <c>sys</c>) on
    /// <paramref name="mountPoint"/> and returns once the kernel has initialized the connection.
    /// </summary>
    /// <param name="tree">The tree to serve.</param>
    /// <param name="treeDirectory">The directory of the tree that becomes the mount's root.</param>
    /// <param name="mountPoint">Where to mount it.</param>
    /// <param name="warn">Takes a line for the host's log whenever serving goes wrong.</param>
    /// <exception cref="FuseException">The mount failed or did not come up, or this architecture's C layouts were never checked.</exception>
    public static FuseMount Mount(SysfsTree tree, string treeDirectory, string mountPoint, Action<string> warn)
    {
        NativeLayout.RequireChecked();
        var mount = new FuseMount(tree, treeDirectory, mountPoint, warn);
        // FUSE_INIT arrives with the first request; a stat of the mount point makes one.
        _ = Task.Run(() => Directory.Exists(mount.MountPoint));
        var ready = Task.WhenAny(mount._initialized.Task, mount._loopEnded.Task, Task.Delay(s_startTimeout)).GetAwaiter().GetResult();
        if (ready != mount._initialized.Task)
        {
            mount.Dispose();
            throw new FuseException($"the mount on {mount.MountPoint} did not start serving");
        }
        return mount;
    }

    internal void Initialized() => _initialized.TrySetResult();

    /// <summary>Unmounts (lazily, so open files do not block it), stops serving and frees everything.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _unmounted, 1) != 0)
        {
            return;
        }
        LibFuse.fuse_exit(_fuse);
        LibFuse.fuse_unmount(_fuse);
        if (!_loopEnded.Task.Wait(TimeSpan.FromSeconds(10)))
        {
            // A process still holds a file of the detached mount; the loop ends when it lets go.
            Warn($"{MountPoint} is detached but still in use");
            return;
        }
        LibFuse.fuse_destroy(_fuse);
        Free();
    }

    private void Serve()
    {
        var config = LibFuse.fuse_loop_cfg_create();
        try
        {
            LibFuse.fuse_loop_cfg_set_max_threads(config, MaxWorkers);
            LibFuse.fuse_loop_cfg_set_idle_threads(config, MaxIdleWorkers);
            _loopEnded.TrySetResult(LibFuse.fuse_loop_mt_312(_fuse, config));
        }
        finally
        {
            LibFuse.fuse_loop_cfg_destroy(config);
        }
    }

    private void Free()
    {
        NativeMemory.Free((void*)_operations);
        _self.Free();
    }

    private static nint New(nint operations, nint privateData)
    {
        string[] arguments = ["mdevkit", "-o", Options];
        var pointers = stackalloc byte*[arguments.Length + 1];
        var allocated = new List<nint>();
        try
        {
            for (var i = 0; i < arguments.Length; i++)
            {
                var bytes = Encoding.UTF8.GetBytes(arguments[i] + "\0");
                var copy = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
                bytes.CopyTo(new Span<byte>(copy, bytes.Length));
                allocated.Add((nint)copy);
                pointers[i] = copy;
            }
            pointers[arguments.Length] = null;
            var args = new fuse_args { argc = arguments.Length, argv = pointers, allocated = 0 };
            return LibFuse.fuse_new_31(&args, (fuse_operations*)operations, (nuint)sizeof(fuse_operations), privateData);
        }
        finally
        {
            foreach (var pointer in allocated)
            {
                NativeMemory.Free((void*)pointer);
            }
        }
    }
}
