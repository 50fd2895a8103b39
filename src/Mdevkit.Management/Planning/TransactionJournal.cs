using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>One step of a transaction as its journal holds it: enough to undo it without the process that took it.</summary>
/// <param name="Step"><c>define</c>, <c>start</c>, <c>stop</c>, <c>enable-vfs</c> or <c>file</c>.</param>
/// <param name="Uuid">The device (device steps).</param>
/// <param name="Parent">Its parent (device steps); the GPU's physical function (<c>enable-vfs</c>).</param>
/// <param name="Type">Its type (<c>stop</c>: what it ran as).</param>
/// <param name="Config">The configuration it ran with, mdevctl's compact JSON (<c>stop</c>, when known).</param>
/// <param name="Path">The root-relative file replaced (<c>file</c>).</param>
/// <param name="Previous">The file's text before, or null when there was none (<c>file</c>).</param>
public sealed record JournalStep(string Step, Guid? Uuid = null, string? Parent = null, string? Type = null, string? Config = null, string? Path = null, string? Previous = null)
{
    /// <summary>What undoing it does, in words.</summary>
    public string UndoText => Step switch
    {
        "define" => $"undefine {MdevUuid.Format(Uuid!.Value)} on {Parent}",
        "start" => $"stop {MdevUuid.Format(Uuid!.Value)}",
        "stop" => $"restart {MdevUuid.Format(Uuid!.Value)} on {Parent} as {Type}",
        "enable-vfs" => $"disable the virtual functions of {Parent}",
        _ => $"restore {Path}",
    };
}

/// <summary>
/// A transaction's write-ahead journal, <c>run/mdevkit/transaction.journal</c>: each step is written (and flushed to
/// disk) before it is taken, and the file goes when the transaction commits or has rolled back. A journal found
/// while holding the root's lock is therefore a killed process's half-done transaction. It lives in the runtime
/// directory because what it records does too: devices do not outlive a reboot, and neither does a journal of them.
/// </summary>
internal sealed class TransactionJournal : IDisposable
{
    private readonly string _path;
    private readonly FileStream _stream;

    private TransactionJournal(string path)
    {
        _path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!, MdevkitPaths.SharedDirectoryMode);
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
    }

    /// <summary>Starts an empty journal; the caller holds the root's lock.</summary>
    public static TransactionJournal Begin(MdevctlEnvironment environment) => new(PathOf(environment));

    public static string PathOf(MdevctlEnvironment environment) => environment.Sysfs.PathOf(MdevkitPaths.TransactionJournal);

    /// <summary>Records a step before it is taken.</summary>
    public void Append(JournalStep step)
    {
        var line = JsonSerializer.Serialize(step, JournalJson.Default.JournalStep) + "\n";
        _stream.Write(Encoding.UTF8.GetBytes(line));
        _stream.Flush(flushToDisk: true);
    }

    /// <summary>The transaction is over (committed or rolled back): the journal goes.</summary>
    public void Dispose()
    {
        _stream.Dispose();
        File.Delete(_path);
    }

    /// <summary>
    /// The steps of a journal left behind, in the order they were taken, or null when there is none. A last line cut
    /// short was being written when its process died, so its step was never taken: it is left out.
    /// </summary>
    public static IReadOnlyList<JournalStep>? Read(MdevctlEnvironment environment)
    {
        var path = PathOf(environment);
        if (!File.Exists(path))
        {
            return null;
        }
        var steps = new List<JournalStep>();
        foreach (var line in File.ReadAllText(path).Split('\n'))
        {
            try
            {
                if (line.Length > 0 && JsonSerializer.Deserialize(line, JournalJson.Default.JournalStep) is { } step)
                {
                    steps.Add(step);
                }
            }
            catch (JsonException)
            {
                environment.Warn($"{path}: a step cut short is left out");
            }
        }
        return steps;
    }

    public static void Delete(MdevctlEnvironment environment) => File.Delete(PathOf(environment));
}

// Source-generated, so the NativeAOT hosts read and write the journal without reflection.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JournalStep))]
internal sealed partial class JournalJson : JsonSerializerContext;
