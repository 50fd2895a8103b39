using System.Text;

namespace Mdevkit.Cli;

/// <summary>Arguments as bytes: the kernel hands over whatever the caller wrote, valid UTF-8 or not.</summary>
internal static class CommandLineText
{
    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool TryDecode(byte[] bytes, out string text)
    {
        try
        {
            text = s_strict.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }

    /// <summary>
    /// The arguments from <c>/proc/self/cmdline</c>: its last <paramref name="count"/> entries, since a launcher
    /// (<c>dotnet mdevkit.dll</c>) may stand before them. Null when there are fewer.
    /// </summary>
    public static IReadOnlyList<byte[]>? Arguments(byte[] cmdline, int count)
    {
        var entries = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < cmdline.Length; i++)
        {
            if (cmdline[i] == 0)
            {
                entries.Add(cmdline[start..i]);
                start = i + 1;
            }
        }
        return entries.Count >= count ? entries[^count..] : null;
    }
}
