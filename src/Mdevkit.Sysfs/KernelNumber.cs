using System.Text;

namespace Mdevkit.Sysfs;

/// <summary>Number parsing with the kernel's <c>kstrtoul(buf, 0, &amp;val)</c> rules, used by <c>remove</c> and vendor attributes.</summary>
public static class KernelNumber
{
    /// <summary>
    /// Parses like <c>kstrtoul</c> with base 0: an optional <c>+</c>, then <c>0x</c> for hex, a leading
    /// <c>0</c> for octal, decimal otherwise; one trailing newline is allowed, and the text ends at the
    /// first NUL byte as it does in a sysfs store buffer.
    /// </summary>
    /// <param name="input">The bytes of one write.</param>
    /// <param name="value">The value on success.</param>
    /// <returns><see cref="Errno.None"/>, <see cref="Errno.EINVAL"/> for text that is not a number, or <see cref="Errno.ERANGE"/> on overflow.</returns>
    public static Errno ParseUnsigned(ReadOnlySpan<byte> input, out ulong value)
    {
        value = 0;
        var end = input.IndexOf((byte)0);
        var s = end >= 0 ? input[..end] : input;
        if (s.Length > 0 && s[0] == (byte)'+')
        {
            s = s[1..];
        }

        uint radix = 10;
        if (s.Length > 0 && s[0] == (byte)'0')
        {
            var isHex = s.Length > 2 && (s[1] | 0x20) == 'x' && char.IsAsciiHexDigit((char)s[2]);
            radix = isHex ? 16u : 8u;
            if (isHex)
            {
                s = s[2..];
            }
        }

        var digits = 0;
        var overflow = false;
        while (digits < s.Length && DigitValue(s[digits]) is var d && d < radix)
        {
            var next = unchecked(value * radix + d);
            overflow |= value > (ulong.MaxValue - d) / radix;
            value = next;
            digits++;
        }
        if (digits == 0)
        {
            return Errno.EINVAL;
        }
        if (overflow)
        {
            value = 0;
            return Errno.ERANGE;
        }
        var rest = s[digits..];
        if (rest.Length > 0 && rest[0] == (byte)'\n')
        {
            rest = rest[1..];
        }
        return rest.IsEmpty ? Errno.None : Errno.EINVAL;
    }

    /// <summary>Convenience overload for text.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="value">The value on success.</param>
    /// <returns>As <see cref="ParseUnsigned(ReadOnlySpan{byte}, out ulong)"/>.</returns>
    public static Errno ParseUnsigned(string text, out ulong value) => ParseUnsigned(Encoding.UTF8.GetBytes(text), out value);

    private static uint DigitValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => (uint)(c - '0'),
        >= (byte)'a' and <= (byte)'f' => (uint)(c - 'a' + 10),
        >= (byte)'A' and <= (byte)'F' => (uint)(c - 'A' + 10),
        _ => uint.MaxValue,
    };
}
