using System.Diagnostics.CodeAnalysis;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tree;

/// <summary>
/// A thread-safe virtual sysfs: the kernel side builds it, filesystem front ends (in-process callers,
/// the FUSE adapter) read and write it through <see cref="Open(string, FileAccess, Caller, out TreeFile?)"/> with the kernfs rules.
/// </summary>
/// <remarks>
/// Lock order: a caller may hold the mdev core's lock when it changes the tree, never the reverse;
/// show/store callbacks run without the tree lock held.
/// </remarks>
public sealed class SysfsTree
{
    private const int MaxLinkDepth = 40;
    private readonly Lock _lock = new();

    /// <summary>
    /// Raised after <see cref="Remove"/> unlinked nodes: the removed node first, then everything that was below it.
    /// It runs on the removing thread once the tree's lock is released (the mdev core's may still be held), so a
    /// front end whose kernel caches entries can drop them before the change is reported done.
    /// </summary>
    public event Action<IReadOnlyList<SysfsNode>>? Removed;

    /// <summary>The simulated <c>/</c>; the kernel side builds <c>sys/</c> below it.</summary>
    public SysfsDirectory Root { get; } = new("", null);

    /// <summary>Creates a directory, or returns the one already there (<c>mkdir -p</c>).</summary>
    public SysfsDirectory EnsureDirectory(string path)
    {
        // Usually the directory is there already (the bus directories every device links into).
        if (TryLookup(path, out var existing) && existing is SysfsDirectory found)
        {
            return found;
        }
        var current = Root;
        foreach (var component in Split(path))
        {
            current = EnsureChildDirectory(current, component);
        }
        return current;
    }

    /// <summary>Creates a directory under <paramref name="parent"/>; the name must be free.</summary>
    public SysfsDirectory CreateDirectory(SysfsDirectory parent, string name) =>
        Add(parent, new SysfsDirectory(name, parent));

    /// <summary>Creates an attribute file under <paramref name="parent"/>; the name must be free.</summary>
    public SysfsAttribute CreateAttribute(SysfsDirectory parent, string name, UnixFileMode mode, ShowHandler? show = null, StoreHandler? store = null) =>
        Add(parent, new SysfsAttribute(name, parent, mode, show, store));

    /// <summary>Creates a read-only binary attribute of a fixed <paramref name="size"/> under <paramref name="parent"/>; the name must be free.</summary>
    public SysfsAttribute CreateBinaryAttribute(SysfsDirectory parent, string name, UnixFileMode mode, long size, BinaryShowHandler show) =>
        Add(parent, new SysfsAttribute(name, parent, mode, show: null, store: null, show, size));

    /// <summary>Creates a symbolic link under <paramref name="parent"/> pointing at <paramref name="target"/>.</summary>
    public SysfsLink CreateLink(SysfsDirectory parent, string name, SysfsNode target) =>
        Add(parent, new SysfsLink(name, parent, target));

    /// <summary>Creates a device node under <paramref name="parent"/>; the name must be free.</summary>
    public DeviceNode CreateDeviceNode(SysfsDirectory parent, string name, UnixFileMode mode, DeviceOpenHandler open) =>
        Add(parent, new DeviceNode(name, parent, mode, open));

    /// <summary>Unlinks a node and everything below it; open handles on them fail with ENODEV from then on.</summary>
    public void Remove(SysfsNode node)
    {
        var removed = new List<SysfsNode>();
        lock (_lock)
        {
            if (node.IsRemoved || node.Parent is null)
            {
                return;
            }
            node.Parent.Children.Remove(node.Name);
            MarkRemoved(node, removed);
        }
        Removed?.Invoke(removed);
    }

    /// <summary>Finds a node without following a final symbolic link (<c>lstat</c>); links on the way are followed.</summary>
    public bool TryLookup(string path, out SysfsNode node) => TryWalk(path, followFinalLink: false, out node) == Errno.None;

    /// <summary>Finds a node, following symbolic links all the way (<c>stat</c>).</summary>
    public bool TryResolve(string path, out SysfsNode node) => TryWalk(path, followFinalLink: true, out node) == Errno.None;

    /// <summary>Looks a path up as the VFS would, returning ENOENT or ENOTDIR on failure.</summary>
    public Errno Lookup(string path, out SysfsNode node) => TryWalk(path, followFinalLink: false, out node);

    /// <summary>Finds the entry <paramref name="name"/> of <paramref name="directory"/> itself (no <c>.</c>, <c>..</c> or links), as a VFS lookup of one component does.</summary>
    /// <returns>False when there is no such entry, or the directory was removed.</returns>
    public bool TryGetChild(SysfsDirectory directory, string name, [MaybeNullWhen(false)] out SysfsNode child)
    {
        lock (_lock)
        {
            child = null;
            return !directory.IsRemoved && directory.Children.TryGetValue(name, out child);
        }
    }

    /// <summary>A snapshot of a directory's entries, sorted by name.</summary>
    public IReadOnlyList<SysfsNode> List(SysfsDirectory directory)
    {
        lock (_lock)
        {
            return directory.IsRemoved ? [] : [.. directory.Children.Values.OrderBy(child => child.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>Opens an attribute the way kernfs does, checking access against its mode, or a device node through its driver.</summary>
    /// <param name="path">Root-relative path; links are followed.</param>
    /// <param name="access">What the caller wants to do with the file.</param>
    /// <param name="caller">Who opens it.</param>
    /// <param name="file">The open file on success.</param>
    /// <returns>ENOENT, EISDIR, EACCES, a device's own errno, or <see cref="Errno.None"/>.</returns>
    public Errno Open(string path, FileAccess access, Caller caller, out TreeFile? file)
    {
        var result = TryWalk(path, followFinalLink: true, out var node);
        if (result != Errno.None)
        {
            file = null;
            return result;
        }
        return Open(node, access, caller, out file);
    }

    /// <summary>Opens a node already found, as <see cref="Open(string, FileAccess, Caller, out TreeFile?)"/> does after its lookup.</summary>
    /// <returns>ENOENT once the node is removed, EISDIR, EACCES, a device's own errno, or <see cref="Errno.None"/>.</returns>
    public static Errno Open(SysfsNode node, FileAccess access, Caller caller, out TreeFile? file)
    {
        file = null;
        if (node.IsRemoved)
        {
            return Errno.ENOENT;
        }
        switch (node)
        {
            case SysfsAttribute attribute:
                var permission = CheckAccess(attribute, access, caller);
                if (permission == Errno.None)
                {
                    file = new SysfsOpenFile(attribute, caller);
                }
                return permission;
            case DeviceNode device:
                if (!caller.IsRoot && !Permits(device.Mode, access, caller))
                {
                    return Errno.EACCES;
                }
                var opened = device.OpenHandler(caller, out var session);
                if (opened == Errno.None)
                {
                    file = new DeviceNodeFile(device, session!, caller);
                }
                return opened;
            default:
                return Errno.EISDIR;
        }
    }

    /// <summary>
    /// Checks an open against an attribute's mode. Besides the usual permission bits (which root
    /// bypasses), sysfs refuses to open a file for reading that has no read bit, or for writing that
    /// has no write bit, even for root (KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK).
    /// </summary>
    public static Errno CheckAccess(SysfsAttribute attribute, FileAccess access, Caller caller)
    {
        const UnixFileMode anyRead = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode anyWrite = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        var wantsRead = access.HasFlag(FileAccess.Read);
        var wantsWrite = access.HasFlag(FileAccess.Write);
        if ((wantsRead && (attribute.Mode & anyRead) == 0) || (wantsWrite && (attribute.Mode & anyWrite) == 0))
        {
            return Errno.EACCES;
        }
        return caller.IsRoot || Permits(attribute.Mode, access, caller) ? Errno.None : Errno.EACCES;
    }

    // Every node belongs to root:root, so another user gets the group or the other bits.
    private static bool Permits(UnixFileMode mode, FileAccess access, Caller caller)
    {
        var (read, write) = caller.Gid == 0
            ? (UnixFileMode.GroupRead, UnixFileMode.GroupWrite)
            : (UnixFileMode.OtherRead, UnixFileMode.OtherWrite);
        return (!access.HasFlag(FileAccess.Read) || (mode & read) != 0) && (!access.HasFlag(FileAccess.Write) || (mode & write) != 0);
    }

    // Looks up and creates in one critical section, so two callers racing for the same path get the same directory.
    private SysfsDirectory EnsureChildDirectory(SysfsDirectory parent, string name)
    {
        lock (_lock)
        {
            if (parent.Children.TryGetValue(name, out var existing))
            {
                return existing as SysfsDirectory
                    ?? throw new InvalidOperationException($"'{existing.Path}' exists and is not a directory");
            }
            return Add(parent, new SysfsDirectory(name, parent));
        }
    }

    private T Add<T>(SysfsDirectory parent, T node) where T : SysfsNode
    {
        lock (_lock)
        {
            if (parent.IsRemoved)
            {
                throw new InvalidOperationException($"cannot add '{node.Name}' to removed directory '{parent.Path}'");
            }
            if (!parent.Children.TryAdd(node.Name, node))
            {
                // The kernel warns "cannot create duplicate filename"; for the model it is a bug.
                throw new InvalidOperationException($"duplicate sysfs entry '{node.Path}'");
            }
            return node;
        }
    }

    private static void MarkRemoved(SysfsNode node, List<SysfsNode> removed)
    {
        node.IsRemoved = true;
        removed.Add(node);
        if (node is SysfsDirectory directory)
        {
            foreach (var child in directory.Children.Values)
            {
                MarkRemoved(child, removed);
            }
        }
    }

    private Errno TryWalk(string path, bool followFinalLink, out SysfsNode node)
    {
        lock (_lock)
        {
            var depth = 0;
            return Walk(Root, path, followFinalLink, ref depth, out node);
        }
    }

    // Walks the path's components in place: lookups are the tree's most frequent work, and they allocate nothing.
    private static Errno Walk(SysfsDirectory start, ReadOnlySpan<char> path, bool followFinalLink, ref int linkDepth, out SysfsNode node)
    {
        node = start;
        path = path.Trim('/');
        while (!path.IsEmpty)
        {
            var slash = path.IndexOf('/');
            var name = slash < 0 ? path : path[..slash];
            path = slash < 0 ? [] : path[(slash + 1)..].TrimStart('/');
            if (node is not SysfsDirectory directory)
            {
                return Errno.ENOTDIR;
            }
            SysfsNode? next = name switch
            {
                "." => directory,
                ".." => directory.Parent ?? directory,
                _ => directory.Children.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var child) ? child : null,
            };
            if (next is null)
            {
                return Errno.ENOENT;
            }
            while (next is SysfsLink link && (!path.IsEmpty || followFinalLink))
            {
                if (++linkDepth > MaxLinkDepth)
                {
                    return Errno.ELOOP;
                }
                if (link.Target.IsRemoved)
                {
                    return Errno.ENOENT;
                }
                next = link.Target;
            }
            node = next;
        }
        return Errno.None;
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
