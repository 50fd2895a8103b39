using System.Collections.Concurrent;
using System.Text;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Fuse;

/// <summary>What the adapter reports for a node: the fields of <c>stat</c> it fills.</summary>
/// <param name="Mode">File type and permission bits, as in <c>st_mode</c>.</param>
/// <param name="Size">The size <c>stat</c> shows.</param>
/// <param name="Links">The link count.</param>
/// <param name="Inode">The inode number.</param>
/// <param name="Time">Access, modification and change time alike.</param>
internal readonly record struct NodeAttributes(uint Mode, long Size, ulong Links, ulong Inode, DateTimeOffset Time);

/// <summary>One entry of a directory listing: its name as a C string, inode number and file type bits.</summary>
internal readonly record struct ListedEntry(byte[] Name, ulong Inode, uint Mode);

/// <summary>
/// Translates the kernel's node-based requests onto a <see cref="SysfsTree"/>, one for one: lookups,
/// attributes, links, listings, and open files whose reads and writes the tree serves with the kernfs rules.
/// It decides nothing itself; every errno comes from the tree.
/// </summary>
/// <remarks>
/// What a node shows through <c>stat</c> and <c>readlink</c> never changes while it exists (a device made
/// again is a new node), so the kernel may keep entries and attributes until the node is removed; the
/// contents of attributes are produced afresh on every read.
/// </remarks>
internal sealed class SysfsFileSystem
{
    private const uint S_IFDIR = 0x4000;
    private const uint S_IFREG = 0x8000;
    private const uint S_IFLNK = 0xA000;
    private const int O_ACCMODE = 3;
    private readonly SysfsTree _tree;
    private readonly ConcurrentDictionary<ulong, TreeFile> _openFiles = new();
    private readonly ConcurrentDictionary<ulong, ListedEntry[]> _openDirectories = new();
    private long _nextHandle;

    public SysfsFileSystem(SysfsTree tree, string treeDirectory)
    {
        _tree = tree;
        Nodes = tree.TryLookup(treeDirectory, out var root) && root is SysfsDirectory directory
            ? new KernelNodes(directory)
            : throw new FuseException($"the tree has no directory '{treeDirectory}' to mount");
    }

    /// <summary>The nodes the kernel holds.</summary>
    public KernelNodes Nodes { get; }

    /// <summary>Finds <paramref name="name"/> in a directory and counts the kernel's lookup of it.</summary>
    public Errno Lookup(ulong directoryId, string name, out ulong id, out NodeAttributes attributes)
    {
        id = 0;
        attributes = default;
        if (!Nodes.TryGet(directoryId, out var node))
        {
            return Errno.ENOENT;
        }
        if (node is not SysfsDirectory directory)
        {
            return Errno.ENOTDIR;
        }
        if (!_tree.TryGetChild(directory, name, out var child) || !Nodes.Remember(child))
        {
            return Errno.ENOENT;
        }
        id = Nodes.IdOf(child);
        attributes = AttributesOf(child);
        return Errno.None;
    }

    public Errno GetAttributes(ulong id, out NodeAttributes attributes)
    {
        var known = Nodes.TryGet(id, out var node);
        attributes = known ? AttributesOf(node) : default;
        return known ? Errno.None : Errno.ENOENT;
    }

    public Errno ReadLink(ulong id, out string target)
    {
        target = "";
        if (!Nodes.TryGet(id, out var node))
        {
            return Errno.ENOENT;
        }
        if (node is not SysfsLink link)
        {
            return Errno.EINVAL;
        }
        target = link.TargetText;
        return Errno.None;
    }

    /// <summary>Takes a snapshot of a directory's entries, <c>.</c> and <c>..</c> first, for the reads of one open directory.</summary>
    public Errno OpenDirectory(ulong id, out ulong handle)
    {
        handle = 0;
        if (!Nodes.TryGet(id, out var node))
        {
            return Errno.ENOENT;
        }
        if (node is not SysfsDirectory directory)
        {
            return Errno.ENOTDIR;
        }
        ListedEntry[] entries =
        [
            Entry(".", directory),
            Entry("..", directory.Parent ?? directory),
            .. _tree.List(directory).Select(child => Entry(child.Name, child)),
        ];
        handle = NextHandle();
        _openDirectories[handle] = entries;
        return Errno.None;
    }

    /// <summary>The snapshot an open directory took.</summary>
    public IReadOnlyList<ListedEntry> Listing(ulong handle) =>
        _openDirectories.TryGetValue(handle, out var entries) ? entries : [];

    public void ReleaseDirectory(ulong handle) => _openDirectories.TryRemove(handle, out _);

    public Errno Open(ulong id, int flags, Caller caller, out ulong handle)
    {
        handle = 0;
        if (!Nodes.TryGet(id, out var node))
        {
            return Errno.ENOENT;
        }
        var access = (flags & O_ACCMODE) switch
        {
            0 => FileAccess.Read,
            1 => FileAccess.Write,
            _ => FileAccess.ReadWrite,
        };
        var result = SysfsTree.Open(node, access, caller, out var file);
        if (result != Errno.None)
        {
            return result;
        }
        handle = NextHandle();
        _openFiles[handle] = file!;
        return Errno.None;
    }

    /// <returns>Bytes read, or a negative errno.</returns>
    public int Read(ulong handle, long offset, Span<byte> buffer) =>
        _openFiles.TryGetValue(handle, out var file) ? file.Read(offset, buffer) : -(int)Errno.EBADF;

    /// <returns>Bytes written, or a negative errno.</returns>
    public int Write(ulong handle, ReadOnlySpan<byte> data, Caller caller) =>
        _openFiles.TryGetValue(handle, out var file) ? file.Write(data, caller) : -(int)Errno.EBADF;

    public Errno Release(ulong handle)
    {
        if (!_openFiles.TryRemove(handle, out var file))
        {
            return Errno.EBADF;
        }
        file.Release();
        return Errno.None;
    }

    /// <summary>
    /// Truncation (a shell's <c>&gt;</c> on a kernel without atomic O_TRUNC) and new times: sysfs accepts
    /// and ignores both, so this only checks that a truncated node is a file. Modes and owners stay as sysfs made them.
    /// </summary>
    public Errno SetAttributes(ulong id, bool mode, bool owner, bool size, out NodeAttributes attributes)
    {
        attributes = default;
        if (!Nodes.TryGet(id, out var node))
        {
            return Errno.ENOENT;
        }
        if (mode || owner)
        {
            return Errno.ENOSYS;
        }
        if (size && node is SysfsDirectory)
        {
            return Errno.EISDIR;
        }
        attributes = AttributesOf(node);
        return Errno.None;
    }

    private static NodeAttributes AttributesOf(SysfsNode node)
    {
        var (type, size, links) = node switch
        {
            SysfsDirectory => (S_IFDIR, 0L, 2UL),
            SysfsLink link => (S_IFLNK, (long)Encoding.UTF8.GetByteCount(link.TargetText), 1UL),
            DeviceNode => (S_IFREG, 0L, 1UL),
            SysfsAttribute attribute => (S_IFREG, attribute.Size, 1UL),
            _ => throw new System.Diagnostics.UnreachableException($"a node of kind {node.GetType().Name}"),
        };
        return new NodeAttributes(type | (uint)node.Mode, size, links, node.Inode, node.Created);
    }

    private static ListedEntry Entry(string name, SysfsNode node) =>
        new(Encoding.UTF8.GetBytes(name + "\0"), node.Inode, AttributesOf(node).Mode);

    private ulong NextHandle() => (ulong)Interlocked.Increment(ref _nextHandle);
}
