using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tree;

/// <summary>
/// What a driver does with one open of a device node, from open to release: the kernel's
/// <c>file_operations</c> for a character device such as <c>/dev/vfio/N</c>.
/// </summary>
public interface IDeviceSession
{
    /// <summary>A read by <paramref name="reader"/>; returns bytes read or a negative errno.</summary>
    int Read(long offset, Span<byte> buffer, Caller reader);

    /// <summary>A write by <paramref name="writer"/>; returns bytes taken or a negative errno.</summary>
    int Write(ReadOnlySpan<byte> data, Caller writer);

    /// <summary>The last descriptor was closed.</summary>
    void Release();
}

/// <summary>Opens a device node for a caller: the session on success, or the errno <c>open(2)</c> returns.</summary>
public delegate Errno DeviceOpenHandler(Caller caller, out IDeviceSession? session);

/// <summary>
/// A device node (<c>/dev/vfio/N</c>). A FUSE mount is <c>nodev</c>, so the node is served as a regular
/// file whose open, reads, writes and release reach the driver; permissions are those of a device node
/// (root passes, others need the mode's bits), not sysfs's.
/// </summary>
public sealed class DeviceNode : SysfsNode
{
    internal DeviceNode(string name, SysfsDirectory parent, UnixFileMode mode, DeviceOpenHandler open)
        : base(name, parent, mode)
    {
        OpenHandler = open;
    }

    /// <summary>VFIO group nodes are 0600, root's.</summary>
    public const UnixFileMode RootOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>What opening the node does.</summary>
    public DeviceOpenHandler OpenHandler { get; }
}

/// <summary>An open device node: each call goes to the driver's session; a node removed meanwhile gives ENODEV.</summary>
public sealed class DeviceNodeFile : TreeFile
{
    private readonly DeviceNode _node;
    private readonly IDeviceSession _session;

    internal DeviceNodeFile(DeviceNode node, IDeviceSession session, Caller caller) : base(caller)
    {
        _node = node;
        _session = session;
    }

    /// <inheritdoc/>
    public override int Read(long offset, Span<byte> buffer) => _session.Read(offset, buffer, Caller);

    /// <inheritdoc/>
    public override int Write(ReadOnlySpan<byte> data, Caller writer) =>
        _node.IsRemoved ? -(int)Errno.ENODEV : _session.Write(data, writer);

    /// <inheritdoc/>
    public override void Release() => _session.Release();
}
