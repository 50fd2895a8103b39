using System.Text.Json;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>
/// Probed models in <c>var/lib/mdevkit/capacity/&lt;parent&gt;.json</c>: state mdevkit learned, kept apart from
/// mdevctl's configuration. Writes are a temporary file and a rename, so a planner never reads half a model.
/// </summary>
public sealed class CapacityStore(MdevctlEnvironment environment)
{
    /// <summary>The directory of the models.</summary>
    public string Directory => environment.Sysfs.PathOf(MdevkitPaths.CapacityDirectory);

    /// <summary>The model stored for <paramref name="parent"/>, if any.</summary>
    /// <exception cref="MdevctlException">The stored file is not a model.</exception>
    public CapacityModel? TryLoad(string parent)
    {
        var path = PathOf(parent);
        return File.Exists(path) ? Parse(parent, File.ReadAllText(path)) : null;
    }

    /// <summary>
    /// The text of every stored model, by parent, for a reader that keeps what it built from them and parses (with
    /// <see cref="Parse"/>) only what changed: one listing of the directory, then the files it has.
    /// </summary>
    public IReadOnlyDictionary<string, string> ReadTexts()
    {
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!System.IO.Directory.Exists(Directory))
        {
            return texts;
        }
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*.json"))
        {
            try
            {
                texts[Path.GetFileNameWithoutExtension(path)] = File.ReadAllText(path);
            }
            catch (FileNotFoundException)
            {
                // Removed since the listing (a model is replaced by a rename, so it is never half there).
            }
        }
        return texts;
    }

    /// <summary>A stored model's text, as <see cref="ReadTexts"/> gave it.</summary>
    /// <exception cref="MdevctlException">The text is not a model.</exception>
    public CapacityModel Parse(string parent, string text)
    {
        try
        {
            return JsonSyntax.Deserialize(text, PlanningJson.Default.CapacityModel, "a capacity model", PathOf(parent));
        }
        catch (InvalidInputException e)
        {
            // A stored model is the host's own file, not what a caller gave: a broken one is the host's fault.
            throw new MdevctlException(e.Message, [.. e.Causes]);
        }
    }

    /// <summary>Stores a model under the root's lock, replacing the parent's previous one.</summary>
    public void Save(CapacityModel model)
    {
        var path = PathOf(model.Parent);
        using var rootLock = RootLock.Acquire(environment);
        AtomicFile.Write(path, ToJson(model));
    }

    /// <summary>The model as stored and as <c>probe --json</c> prints it.</summary>
    public static string ToJson(CapacityModel model) => JsonSerializer.Serialize(model, PlanningJson.Default.CapacityModel) + "\n";

    private string PathOf(string parent) => SysfsRoot.IsPathComponent(parent)
        ? Path.Join(Directory, parent + ".json")
        : throw new MdevctlException($"Invalid parent device name '{parent}'");
}
