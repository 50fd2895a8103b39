using System.Buffers.Text;
using System.Text;

namespace Mdevkit.Sysfs;

/// <summary>
/// UUIDs as the mdev ABI reads and writes them: a device directory is named by the lowercase form,
/// and <c>create</c> accepts exactly what the kernel's <c>create_store</c> accepts.
/// </summary>
public static class MdevUuid
{
    /// <summary>Length of the textual form, <c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>.</summary>
    public const int TextLength = 36;

    /// <summary>
    /// Parses a write to a type's <c>create</c> file. The kernel takes 36 or 37 bytes and validates
    /// only the first 36, so <c>echo</c>'s trailing newline is accepted (and so is any other 37th byte).
    /// Hex digits may be of either case.
    /// </summary>
    /// <param name="input">The bytes of one <c>write(2)</c>.</param>
    /// <param name="uuid">The parsed UUID when the result is <see cref="Errno.None"/>.</param>
    /// <returns><see cref="Errno.None"/> or <see cref="Errno.EINVAL"/>.</returns>
    public static Errno ParseCreateInput(ReadOnlySpan<byte> input, out Guid uuid)
    {
        uuid = default;
        if (input.Length < TextLength || input.Length > TextLength + 1)
        {
            return Errno.EINVAL;
        }
        return TryParseText(input[..TextLength], out uuid) ? Errno.None : Errno.EINVAL;
    }

    /// <summary>Parses exactly 36 characters of canonical UUID text, hex digits of either case.</summary>
    /// <param name="text">Candidate text.</param>
    /// <param name="uuid">The parsed UUID on success.</param>
    /// <returns>Whether <paramref name="text"/> is a UUID in canonical form.</returns>
    public static bool TryParse(string? text, out Guid uuid)
    {
        uuid = default;
        return text is not null && text.Length == TextLength && TryParseText(Encoding.ASCII.GetBytes(text), out uuid);
    }

    /// <summary>The lowercase canonical form, as the kernel names device directories (<c>%pUl</c>).</summary>
    /// <param name="uuid">A UUID.</param>
    /// <returns>36 lowercase characters.</returns>
    public static string Format(Guid uuid) => uuid.ToString("D");

    private static bool TryParseText(ReadOnlySpan<byte> text, out Guid uuid)
    {
        uuid = default;
        for (var i = 0; i < TextLength; i++)
        {
            var isDashPosition = i is 8 or 13 or 18 or 23;
            var c = text[i];
            if (isDashPosition ? c != (byte)'-' : !char.IsAsciiHexDigit((char)c))
            {
                return false;
            }
        }
        // Validated above, so the BCL parser (which also accepts other forms) cannot widen what we take.
        return Utf8Parser.TryParse(text, out uuid, out var consumed, 'D') && consumed == TextLength;
    }
}
