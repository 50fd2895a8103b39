using System.Text.RegularExpressions;

namespace Mdevkit.Management;

/// <summary>
/// Whole-file replacement: a temporary file beside the target, flushed, then renamed over it. The temporary
/// name is random and made with <c>O_EXCL</c>, so no earlier leftover can be in the way. Public for the hosts that keep
/// files of their own beside the root (the DRA plugin's checkpoint, CDI specs and device metadata).
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> as <paramref name="path"/>; the caller holds the root's lock.</summary>
    public static void Write(string path, string text)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        SweepTemporaryFiles(directory);
        var temporary = Path.Join(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(text);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Whether a file name is one of this writer's temporary files (or an earlier version's, named by a process id).</summary>
    public static bool IsTemporary(string name) => TemporaryName().IsMatch(name);

    // Every writer holds the root's lock, so a temporary file found while holding it is a killed writer's.
    private static void SweepTemporaryFiles(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, ".*.tmp").Where(file => IsTemporary(Path.GetFileName(file))))
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"^\.[^/]+\.[0-9a-f]+\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryName();
}
