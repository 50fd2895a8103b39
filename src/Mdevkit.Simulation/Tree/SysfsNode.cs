namespace Mdevkit.Simulation.Tree;

/// <summary>One entry of the virtual sysfs tree. Structure is guarded by the owning <see cref="SysfsTree"/>'s lock.</summary>
public abstract class SysfsNode
{
    private static long s_nextInode;
    private string? _path;

    private protected SysfsNode(string name, SysfsDirectory? parent, UnixFileMode mode)
    {
        Name = name;
        Parent = parent;
        Mode = mode;
        Inode = (ulong)Interlocked.Increment(ref s_nextInode);
        Created = DateTimeOffset.UtcNow;
    }

    /// <summary>The entry's name in its directory.</summary>
    public string Name { get; }

    /// <summary>The directory holding this entry; null only for the root.</summary>
    public SysfsDirectory? Parent { get; }

    /// <summary>Permission bits (sysfs: 0755 directories, 0777 links, 0444/0644/0200 attributes).</summary>
    public UnixFileMode Mode { get; }

    /// <summary>A number unique to this node for the life of the process, usable as an inode number.</summary>
    public ulong Inode { get; }

    /// <summary>When the node was made (sysfs shows the same time for access, modification and change).</summary>
    public DateTimeOffset Created { get; }

    /// <summary>Set once the node is unlinked; open handles on it then fail with ENODEV, as on kernfs.</summary>
    public bool IsRemoved { get; internal set; }

    // A node never moves, so its path is made once, when first asked for.
    /// <summary>The root-relative path, without a leading slash.</summary>
    public string Path => _path ??= Parent is null ? "" : Parent.Parent is null ? Name : Parent.Path + "/" + Name;

    /// <inheritdoc/>
    public override string ToString() => Path;
}

/// <summary>A directory: a kobject or an attribute group.</summary>
public sealed class SysfsDirectory : SysfsNode
{
    internal SysfsDirectory(string name, SysfsDirectory? parent) : base(name, parent, DirectoryMode)
    {
    }

    /// <summary>sysfs directories are 0755.</summary>
    public const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    // Guarded by the tree lock. Found by name far more often than listed, so listings sort instead.
    internal Dictionary<string, SysfsNode> Children { get; } = new(StringComparer.Ordinal);
}

/// <summary>A symbolic link whose text is the relative path from its directory to its target, as sysfs links are.</summary>
public sealed class SysfsLink : SysfsNode
{
    internal SysfsLink(string name, SysfsDirectory parent, SysfsNode target) : base(name, parent, LinkMode)
    {
        Target = target;
    }

    /// <summary>Links are 0777.</summary>
    public const UnixFileMode LinkMode = (UnixFileMode)0x1FF;

    /// <summary>The node the link points to.</summary>
    public SysfsNode Target { get; }

    /// <summary>The link text, e.g. <c>../../../devices/virtual/mtty/mtty</c>.</summary>
    public string TargetText => RelativePath(Parent!.Path, Target.Path);

    private static string RelativePath(string fromDirectory, string to)
    {
        var from = fromDirectory.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var target = to.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var common = 0;
        while (common < from.Length && common < target.Length && from[common] == target[common])
        {
            common++;
        }
        var parts = Enumerable.Repeat("..", from.Length - common).Concat(target.Skip(common));
        return string.Join('/', parts);
    }
}

/// <summary>Renders an attribute's content, the kernel's <c>show()</c>.</summary>
public delegate string ShowHandler();

/// <summary>Renders a binary attribute's content, the kernel's <c>bin_attribute</c> <c>read()</c> (a PCI function's <c>config</c>).</summary>
public delegate byte[] BinaryShowHandler();

/// <summary>Takes one <c>write(2)</c> to an attribute, the kernel's <c>store()</c>. Any error fails the whole write.</summary>
/// <param name="data">Exactly the bytes of the write.</param>
/// <param name="caller">Who writes.</param>
/// <returns><see cref="Mdevkit.Sysfs.Errno.None"/> when every byte was taken, or the errno the writer sees.</returns>
public delegate Mdevkit.Sysfs.Errno StoreHandler(ReadOnlySpan<byte> data, Caller caller);

/// <summary>A sysfs attribute file. Reading runs <see cref="Show"/>; each write runs <see cref="Store"/> once.</summary>
public sealed class SysfsAttribute : SysfsNode
{
    internal SysfsAttribute(string name, SysfsDirectory parent, UnixFileMode mode, ShowHandler? show, StoreHandler? store, BinaryShowHandler? showBinary = null, long binarySize = 0)
        : base(name, parent, mode)
    {
        Show = show;
        Store = store;
        ShowBinary = showBinary;
        Size = showBinary is null ? ReportedSize : binarySize;
    }

    /// <summary>sysfs reports PAGE_SIZE as the size of every text attribute, whatever it holds.</summary>
    public const long ReportedSize = 4096;

    /// <summary>
    /// The size <c>stat</c> shows: <see cref="ReportedSize"/>, or a binary attribute's own fixed size (a
    /// conventional PCI function's <c>config</c> is 256 bytes, which is how libvirt tells it from PCI Express).
    /// </summary>
    public long Size { get; }

    /// <summary>Read-only attribute mode (0444).</summary>
    public const UnixFileMode ReadOnly = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Read-write attribute mode (0644).</summary>
    public const UnixFileMode ReadWrite = ReadOnly | UnixFileMode.UserWrite;

    /// <summary>Write-only attribute mode (0200), as <c>create</c> and <c>remove</c>.</summary>
    public const UnixFileMode WriteOnly = UnixFileMode.UserWrite;

    /// <summary>The show callback, when the attribute is readable.</summary>
    public ShowHandler? Show { get; }

    /// <summary>The content of a binary attribute, which has no <see cref="Show"/>.</summary>
    public BinaryShowHandler? ShowBinary { get; }

    /// <summary>The store callback, when the attribute is writable.</summary>
    public StoreHandler? Store { get; }
}
