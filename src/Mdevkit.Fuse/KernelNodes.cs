using Mdevkit.Simulation.Tree;

namespace Mdevkit.Fuse;

/// <summary>
/// The nodes of a tree that the kernel holds, by the node id it calls them by, each with the number of
/// lookups it has not yet forgotten. A node leaves once the kernel forgets it, so removed devices are freed.
/// </summary>
/// <remarks>
/// The node id is the tree's inode number (unique for the life of the process, never reused), except for the
/// mount's root, which the kernel calls 1.
/// </remarks>
internal sealed class KernelNodes(SysfsDirectory root)
{
    private const ulong RootId = 1;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, (SysfsNode Node, ulong Lookups)> _known = [];

    public ulong IdOf(SysfsNode node) => node == root ? RootId : node.Inode;

    /// <summary>The node the kernel means by <paramref name="id"/>, removed or not, while the kernel holds it.</summary>
    public bool TryGet(ulong id, out SysfsNode node)
    {
        if (id == RootId)
        {
            node = root;
            return true;
        }
        lock (_lock)
        {
            var found = _known.TryGetValue(id, out var entry);
            node = entry.Node;
            return found;
        }
    }

    /// <summary>Counts one lookup the kernel is about to be answered with.</summary>
    /// <returns>False, and nothing counted, when the node was removed meanwhile: the answer must be ENOENT.</returns>
    /// <remarks>
    /// Counting and checking happen under the lock <see cref="HeldAmong"/> takes, after the tree marked the node
    /// removed: either the remover finds the node counted and invalidates the entry the kernel is about to get,
    /// or this sees it removed.
    /// </remarks>
    public bool Remember(SysfsNode node)
    {
        if (node == root)
        {
            return !node.IsRemoved;
        }
        lock (_lock)
        {
            if (node.IsRemoved)
            {
                return false;
            }
            _known[node.Inode] = (node, _known.GetValueOrDefault(node.Inode).Lookups + 1);
            return true;
        }
    }

    /// <summary>The kernel dropped <paramref name="lookups"/> of its lookups of <paramref name="id"/>.</summary>
    public void Forget(ulong id, ulong lookups)
    {
        lock (_lock)
        {
            if (_known.TryGetValue(id, out var entry))
            {
                if (entry.Lookups <= lookups)
                {
                    _known.Remove(id);
                }
                else
                {
                    _known[id] = (entry.Node, entry.Lookups - lookups);
                }
            }
        }
    }

    /// <summary>Of nodes just removed from the tree, those the kernel may hold an entry for: each as its directory's id and its name.</summary>
    public List<(ulong Directory, string Name)> HeldAmong(IReadOnlyList<SysfsNode> removed)
    {
        var held = new List<(ulong, string)>();
        lock (_lock)
        {
            foreach (var node in removed)
            {
                if (_known.ContainsKey(node.Inode))
                {
                    held.Add((IdOf(node.Parent!), node.Name));
                }
            }
        }
        return held;
    }
}
