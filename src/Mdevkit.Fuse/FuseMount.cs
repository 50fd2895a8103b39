using System.Runtime.InteropServices;
using System.Text;
using Mdevkit.Fuse.Native;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Fuse;

/// <summary>A FUSE mount could not be made or served; the message says why.</summary>
public sealed class FuseException(string message) : Exception(message);

/// <summary>
/// A directory of a <see cref="SysfsTree"/> mounted as a real filesystem through libfuse3's low-level API.
/// The kernel keeps entries, attributes and link texts, and the mount invalidates each entry the moment the
/// tree removes its node, before the removal is reported done; nothing else about a node ever changes, and
/// no negative entry or listing is cached, so a device created in the tree is visible at once. Contents are
/// never cached (direct I/O). Requests are served on libfuse's worker threads; the tree is thread-safe.
/// </summary>
/// <remarks>
/// A request the tree answers only later (a <c>remove</c> waiting for the holder of an open device) keeps
/// its worker until then, as each callback replies before it returns. libfuse's default limit
/// of 10 workers would let ten such writes stop every other request of the mount; the limit is
/// <see cref="MaxWorkers"/> instead, and workers beyond <see cref="MaxIdleWorkers"/> end once idle.
/// </remarks>
public sealed unsafe class FuseMount : IDisposable
{
    /// <summary>The subtype the mounts carry: mountinfo lists them as <c>fuse.mdevkit-sim</c>.</summary>
    public const string Subtype = "mdevkit-sim";

    // Mount options libfuse parses in fuse_session_new: everyone may look (sysfs is world-readable; the tree
    // checks permissions itself).
    private const string Options = "fsname=mdevkit,subtype=" + Subtype + ",allow_other";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How many requests the mount serves at once, blocked ones included.</summary>
    public const uint MaxWorkers = 1024;

    /// <summary>How many idle workers stay for the next requests.</summary>
    public const uint MaxIdleWorkers = 16;

    private readonly GCHandle _self;
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _loopEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SysfsTree _tree;
    private readonly nint _session;

    // Held while a notification is written, so that the session is never destroyed under one.
    private readonly Lock _sessionLock = new();
    private int _unmounted;

    private FuseMount(SysfsTree tree, string treeDirectory, string mountPoint, Action<string> warn)
    {
        MountPoint = Path.GetFullPath(mountPoint);
        Warn = warn;
        FileSystem = new SysfsFileSystem(tree, treeDirectory);
        _tree = tree;
        _self = GCHandle.Alloc(this);
        _session = NewSession(GCHandle.ToIntPtr(_self));
        if (_session == 0)
        {
            _self.Free();
            throw new FuseException("fuse_session_new failed (is libfuse3 installed? Debian package libfuse3-3)");
        }
        if (LibFuse.fuse_session_mount(_session, MountPoint) != 0)
        {
            LibFuse.fuse_session_destroy(_session);
            _self.Free();
            throw new FuseException($"cannot mount on {MountPoint} (needs /dev/fuse and root or fusermount3; Debian package fuse3)");
        }
        Ring = new FuseRing(this, _session);
        var io = DeviceIo.Operations();
        if (LibFuse.fuse_session_custom_io(_session, &io, LibFuse.fuse_session_fd(_session)) != 0)
        {
            LibFuse.fuse_session_unmount(_session);
            LibFuse.fuse_session_destroy(_session);
            _self.Free();
            throw new FuseException($"cannot serve the mount on {MountPoint}: libfuse took no custom I/O");
        }
        _tree.Removed += Invalidate;
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

    // FUSE over io_uring, when the kernel offers it.
    internal FuseRing Ring { get; }

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
        _tree.Removed -= Invalidate;
        LibFuse.fuse_session_exit(_session);
        LibFuse.fuse_session_unmount(_session);
        // The ring's threads hold the device too: they let go first, as libfuse's loop ends only with the device.
        if (!Ring.Stop(TimeSpan.FromSeconds(10)))
        {
            Warn($"{MountPoint} is detached but a request is still being answered");
            return;
        }
        if (!_loopEnded.Task.Wait(TimeSpan.FromSeconds(10)))
        {
            // A process still holds a file of the detached mount; the loop ends when it lets go.
            Warn($"{MountPoint} is detached but still in use");
            return;
        }
        lock (_sessionLock)
        {
            LibFuse.fuse_session_destroy(_session);
            _self.Free();
        }
    }

    // Drops the kernel's entries for nodes the tree just removed, on the removing thread, so the removal is not
    // reported done while a stale entry could still be found. The kernel takes the directory's lock for this,
    // which requests waiting in it (lookups, listings) hold only until they are answered, and answering them
    // needs only the tree's lock, which the tree has released by now.
    private void Invalidate(IReadOnlyList<SysfsNode> removed)
    {
        foreach (var (directory, name) in FileSystem.Nodes.HeldAmong(removed))
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            int result;
            lock (_sessionLock)
            {
                if (_unmounted != 0)
                {
                    return;
                }
                fixed (byte* text = bytes)
                {
                    result = LibFuse.fuse_lowlevel_notify_inval_entry(_session, directory, text, (nuint)bytes.Length);
                }
            }
            // ENOENT: the kernel let go of the entry or its directory meanwhile, so nothing stale is left.
            if (result != 0 && result != -(int)Errno.ENOENT)
            {
                Warn($"could not invalidate {name} in {directory}: errno {-result}");
            }
        }
    }

    private void Serve()
    {
        var config = LibFuse.fuse_loop_cfg_create();
        try
        {
            LibFuse.fuse_loop_cfg_set_max_threads(config, MaxWorkers);
            LibFuse.fuse_loop_cfg_set_idle_threads(config, MaxIdleWorkers);
            _loopEnded.TrySetResult(LibFuse.fuse_session_loop_mt_312(_session, config));
        }
        finally
        {
            LibFuse.fuse_loop_cfg_destroy(config);
        }
    }

    private static nint NewSession(nint userdata)
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
            // libfuse copies the operations during the call.
            var operations = Callbacks.Operations();
            return LibFuse.fuse_session_new(&args, &operations, (nuint)sizeof(fuse_lowlevel_ops), userdata);
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
