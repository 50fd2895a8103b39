namespace Mdevkit.Simulation.Tree;

/// <summary>A file of the tree opened by a caller: an attribute (<see cref="SysfsOpenFile"/>) or a device node (<see cref="DeviceNodeFile"/>).</summary>
public abstract class TreeFile
{
    private protected TreeFile(Caller caller) => Caller = caller;

    /// <summary>Who opened the file.</summary>
    public Caller Caller { get; }

    /// <summary>Reads up to <paramref name="buffer"/>'s length from <paramref name="offset"/>.</summary>
    /// <returns>The number of bytes read, or a negative errno.</returns>
    public abstract int Read(long offset, Span<byte> buffer);

    /// <summary>Writes the bytes of one <c>write(2)</c>.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="writer">The writing process; a file descriptor can be shared, so it may differ from the opener.</param>
    /// <returns>The number of bytes taken, or a negative errno.</returns>
    public abstract int Write(ReadOnlySpan<byte> data, Caller writer);

    /// <summary>Writes as the process that opened the file.</summary>
    public int Write(ReadOnlySpan<byte> data) => Write(data, Caller);

    /// <summary>The last descriptor on the file was closed (the kernel's <c>release</c>).</summary>
    public virtual void Release()
    {
    }
}
