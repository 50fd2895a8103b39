using System.Globalization;
using System.Text;

namespace Mdevkit.Management;

/// <summary>
/// Which parent and type names mdevkit takes: no control characters (a name is a directory name and a
/// listing's word) and nothing that was not UTF-8 (which .NET can only read as U+FFFD, a name no device has).
/// </summary>
public static class DeviceNames
{
    /// <summary>Why <paramref name="name"/> cannot name a parent or a type, or null when it can.</summary>
    public static string? Problem(string name) =>
        name.Length == 0 ? "it is empty"
        : name.Any(char.IsControl) ? "it contains a control character"
        : name.Contains('\uFFFD', StringComparison.Ordinal) ? "it is not valid UTF-8"
        : null;

    /// <summary>Whether <paramref name="name"/> can name a parent or a type.</summary>
    public static bool IsValid(string name) => Problem(name) is null;

    /// <summary>The name with control characters written as escapes, so that a message stays on its line.</summary>
    public static string Printable(string name)
    {
        var text = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            text.Append(char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{{{(int)c:x}}}") : c.ToString());
        }
        return text.ToString();
    }
}
