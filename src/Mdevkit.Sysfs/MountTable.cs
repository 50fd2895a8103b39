using System.Text;

namespace Mdevkit.Sysfs;

/// <summary>One line of <c>/proc/self/mountinfo</c>: where a filesystem is mounted and what it is.</summary>
/// <param name="MountPoint">The mount point, unescaped (the kernel writes a space as <c>\040</c>).</param>
/// <param name="FileSystemType">The type, e.g. <c>sysfs</c> or <c>fuse.&lt;subtype&gt;</c>.</param>
/// <param name="Source">The mount source, unescaped.</param>
public sealed record Mount(string MountPoint, string FileSystemType, string Source);

/// <summary>The mounts this process sees, as <c>/proc/self/mountinfo</c> lists them.</summary>
public static class MountTable
{
    private const string MountInfo = "/proc/self/mountinfo";

    /// <summary>Every mount, in the kernel's order (later mounts over the same point come later).</summary>
    /// <returns>The mounts; none when <c>/proc</c> is not mounted.</returns>
    public static IReadOnlyList<Mount> Read()
    {
        string text;
        try
        {
            text = File.ReadAllText(MountInfo);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return Parse(text);
    }

    /// <summary>Parses mountinfo text; lines not in its format are left out.</summary>
    /// <param name="mountInfo">The contents of a <c>mountinfo</c> file.</param>
    /// <returns>The mounts it lists, in order.</returns>
    public static IReadOnlyList<Mount> Parse(string mountInfo) =>
        [.. mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseLine).OfType<Mount>()];

    /// <summary>Whether a path is a mount point now.</summary>
    /// <param name="path">An absolute path without symbolic links (as the kernel reports mount points).</param>
    /// <returns>Whether some mount's mount point is <paramref name="path"/>.</returns>
    public static bool IsMountPoint(string path) => Read().Any(mount => mount.MountPoint == path);

    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": optional fields end at "-".
    private static Mount? ParseLine(string line)
    {
        var fields = line.Split(' ');
        var separator = fields.Length > 6 ? Array.IndexOf(fields, "-", 6) : -1;
        return separator > 0 && separator + 2 < fields.Length
            ? new Mount(Unescape(fields[4]), Unescape(fields[separator + 1]), Unescape(fields[separator + 2]))
            : null;
    }

    // The kernel escapes space, tab, newline and backslash in these fields as three octal digits.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var bytes = new List<byte>(field.Length);
        var raw = Encoding.UTF8.GetBytes(field);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && i + 3 < raw.Length && IsOctal(raw[i + 1]) && IsOctal(raw[i + 2]) && IsOctal(raw[i + 3]))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(raw[i]);
            }
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(byte value) => value is >= (byte)'0' and <= (byte)'7';
}
