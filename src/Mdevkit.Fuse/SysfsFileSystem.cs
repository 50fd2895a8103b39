using System.Collections.Concurrent;
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

/// <summary>
/// Translates filesystem operations onto a <see cref="SysfsTree"/>, one for one: lookups, attributes,
/// links, listings, and open files whose reads and writes the tree serves with the kernfs rules.
/// It decides nothing itself; every errno comes from the tree.
/// </summary>
internal sealed class SysfsFileSystem(SysfsTree tree, string treeDirectory)
{
    private const uint S_IFDIR = 0x4000;
    private const uint S_IFREG = 0x8000;
    private const uint S_IFLNK = 0xA000;
    private const int O_ACCMODE = 3;
    private readonly ConcurrentDictionary<ulong, TreeFile> _openFiles = new();
    private long _nextHandle;

    public Errno GetAttributes(string path, out NodeAttributes attributes)
    {
        attributes = default;
        var result = tree.Lookup(TreePath(path), out var node);
        if (result != Errno.None)
        {
            return result;
        }
        var (type, size, links) = node switch
        {
            SysfsDirectory => (S_IFDIR, 0L, 2UL),
            SysfsLink link => (S_IFLNK, (long)System.Text.Encoding.UTF8.GetByteCount(link.TargetText), 1UL),
            DeviceNode => (S_IFREG, 0L, 1UL),
            _ => (S_IFREG, SysfsAttribute.ReportedSize, 1UL),
        };
        attributes = new NodeAttributes(type | (uint)node.Mode, size, links, node.Inode, node.Created);
        return Errno.None;
    }

    public Errno ReadLink(string path, out string target)
    {
        target = "";
        var result = tree.Lookup(TreePath(path), out var node);
        if (result != Errno.None)
        {
            return result;
        }
        if (node is not SysfsLink link)
        {
            return Errno.EINVAL;
        }
        target = link.TargetText;
        return Errno.None;
    }

    public Errno ListDirectory(string path, out IReadOnlyList<string> names)
    {
        names = [];
        var result = tree.Lookup(TreePath(path), out var node);
        if (result != Errno.None)
        {
            return result;
        }
        if (node is not SysfsDirectory directory)
        {
            return Errno.ENOTDIR;
        }
        names = [.. tree.List(directory).Select(child => child.Name)];
        return Errno.None;
    }

    public Errno OpenDirectory(string path) =>
        tree.Lookup(TreePath(path), out var node) is var result && result != Errno.None ? result
        : node is SysfsDirectory ? Errno.None : Errno.ENOTDIR;

    public Errno Open(string path, int flags, Caller caller, out ulong handle)
    {
        handle = 0;
        var access = (flags & O_ACCMODE) switch
        {
            0 => FileAccess.Read,
            1 => FileAccess.Write,
            _ => FileAccess.ReadWrite,
        };
        var result = tree.Open(TreePath(path), access, caller, out var file);
        if (result != Errno.None)
        {
            return result;
        }
        handle = (ulong)Interlocked.Increment(ref _nextHandle);
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
    /// Truncation reaches an attribute only after it was opened for writing (a shell's <c>&gt;</c>); sysfs
    /// accepts and ignores it, so this only checks that the node is a file.
    /// </summary>
    public Errno Truncate(string path) =>
        tree.Lookup(TreePath(path), out var node) is var result && result != Errno.None ? result
        : node is SysfsDirectory ? Errno.EISDIR : Errno.None;

    /// <summary>sysfs lets times be set and keeps them to itself; only existence is checked.</summary>
    public Errno SetTimes(string path) => tree.Lookup(TreePath(path), out _);

    private string TreePath(string path) => treeDirectory + path.TrimEnd('/');
}
