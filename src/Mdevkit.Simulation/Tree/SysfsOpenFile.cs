using System.Text;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tree;

/// <summary>
/// An open sysfs attribute. A read at offset 0 runs show() afresh and later offsets continue in that
/// text (the kernel's seq_file); every write is one store() whatever the offset, as sysfs ignores it.
/// </summary>
public sealed class SysfsOpenFile : TreeFile
{
    private readonly Lock _lock = new();
    private byte[]? _shown;

    internal SysfsOpenFile(SysfsAttribute attribute, Caller caller) : base(caller)
    {
        Attribute = attribute;
    }

    /// <summary>The attribute this handle is open on.</summary>
    public SysfsAttribute Attribute { get; }

    /// <inheritdoc/>
    public override int Read(long offset, Span<byte> buffer)
    {
        if (Attribute.IsRemoved)
        {
            return -(int)Errno.ENODEV;
        }
        if (Attribute.Show is null && Attribute.ShowBinary is null)
        {
            return -(int)Errno.EIO;
        }
        byte[] content;
        lock (_lock)
        {
            if (offset == 0 || _shown is null)
            {
                _shown = Attribute.ShowBinary?.Invoke() ?? Encoding.UTF8.GetBytes(Attribute.Show!());
            }
            content = _shown;
        }
        if (offset >= content.Length)
        {
            return 0;
        }
        var count = Math.Min(buffer.Length, content.Length - (int)offset);
        content.AsSpan((int)offset, count).CopyTo(buffer);
        return count;
    }

    /// <summary>Writes one store.</summary>
    /// <inheritdoc/>
    public override int Write(ReadOnlySpan<byte> data, Caller writer)
    {
        if (Attribute.IsRemoved)
        {
            return -(int)Errno.ENODEV;
        }
        if (Attribute.Store is null)
        {
            return -(int)Errno.EIO;
        }
        if (data.IsEmpty)
        {
            // A 0-byte write returns 0 without reaching store().
            return 0;
        }
        if (data.Length > SysfsAttribute.ReportedSize)
        {
            // kernfs truncates a store to one page; the truncated text is what store() sees.
            data = data[..(int)SysfsAttribute.ReportedSize];
        }
        var result = Attribute.Store(data, writer);
        return result == Errno.None ? data.Length : -(int)result;
    }
}
