using System.Security.Cryptography;
using System.Text;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>
/// Names the API server takes as DNS labels (<c>[a-z0-9]([-a-z0-9]*[a-z0-9])?</c>, at most 63 characters), made from
/// sysfs names such as <c>0000:3b:00.0</c> or <c>i915-GVTg_V5_4</c>. The readable form lowercases and turns every
/// other character into a dash; the hashed form ends in eight hex digits of the exact names' SHA-256, so it stays
/// the same on every republish and tells apart names the readable form would merge or cut.
/// </summary>
public static class DnsLabel
{
    /// <summary>The longest DNS label.</summary>
    public const int MaxLength = 63;

    private const int HashLength = 8;

    /// <summary>The readable label of <paramref name="parts"/> joined by dashes, leaving room for <paramref name="reserve"/> more characters; null when it does not fit.</summary>
    public static string? Readable(IReadOnlyList<string> parts, int reserve = 0)
    {
        var label = string.Join('-', parts.Select(Clean).Where(part => part.Length > 0));
        return label.Length is > 0 and var length && length + reserve <= MaxLength ? label : null;
    }

    /// <summary>The hashed label of <paramref name="parts"/>: as much of the readable form as fits, a dash and the hash.</summary>
    public static string Hashed(IReadOnlyList<string> parts, int reserve = 0)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', parts))))[..HashLength];
        var room = MaxLength - reserve - HashLength - 1;
        var readable = string.Join('-', parts.Select(Clean).Where(part => part.Length > 0));
        var prefix = readable[..Math.Min(readable.Length, Math.Max(0, room))].TrimEnd('-');
        return prefix.Length > 0 ? $"{prefix}-{hash}" : hash;
    }

    /// <summary>Whether <paramref name="name"/> is a DNS label.</summary>
    public static bool IsLabel(string name) =>
        name.Length is > 0 and <= MaxLength && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && name[0] != '-' && name[^1] != '-';

    // Lowercase letters and digits stay; runs of anything else become one dash; none at either end.
    private static string Clean(string part)
    {
        var clean = new StringBuilder(part.Length);
        foreach (var c in part.ToLowerInvariant())
        {
            var keep = c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
            if (keep)
            {
                clean.Append(c);
            }
            else if (clean.Length > 0 && clean[^1] != '-')
            {
                clean.Append('-');
            }
        }
        return clean.ToString().TrimEnd('-');
    }
}
