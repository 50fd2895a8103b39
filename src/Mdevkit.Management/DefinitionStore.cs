using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>A persistent device definition: which parent, which UUID, and its configuration.</summary>
/// <param name="Parent">The parent's name, as <c>sys/class/mdev_bus</c> lists it.</param>
/// <param name="Uuid">The device's UUID.</param>
/// <param name="Config">Its configuration.</param>
public sealed record Definition(string Parent, Guid Uuid, DeviceConfig Config);

/// <summary>
/// The definitions in <c>etc/mdevctl.d/&lt;parent&gt;/&lt;uuid&gt;</c>. Writes are atomic (a temporary file in the
/// same directory, then a rename), so a crash never leaves half a file and a watcher sees one event; they take
/// the root's lock (<see cref="RootLock"/>), which a check-then-write holds around both.
/// </summary>
public sealed class DefinitionStore(MdevctlEnvironment environment)
{
    /// <summary>Raised for a file that is not named by a UUID, with mdevctl's warning text.</summary>
    public event Action<string>? Warning;

    /// <summary>Every definition, parents in byte order, devices by UUID text.</summary>
    /// <param name="parent">Only this parent's, when given.</param>
    /// <param name="uuid">Only this UUID's, when given.</param>
    /// <exception cref="ConfigException">A definition file is not valid; nothing is returned then, as in mdevctl.</exception>
    public IReadOnlyList<Definition> Load(string? parent = null, Guid? uuid = null)
    {
        var root = environment.ConfigDirectory;
        if (!Directory.Exists(root))
        {
            return [];
        }
        var files = new List<(string Parent, Guid Uuid, string Path)>();
        foreach (var parentDirectory in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var parentName = Path.GetFileName(parentDirectory);
            if (parentName == MdevctlEnvironment.ScriptsDirectoryName || (parent is not null && parentName != parent))
            {
                continue;
            }
            if (!DeviceNames.IsValid(parentName))
            {
                // mdevctl stops at such a name; no parent is called so, so its files can only be skipped.
                Warning?.Invoke($"Can't determine parent for directory '{DeviceNames.Printable(parentName)}': not a valid parent name");
                continue;
            }
            if (uuid is { } wanted)
            {
                // One device: look at its file in each parent instead of listing every parent's files.
                var path = Path.Join(parentDirectory, MdevUuid.Format(wanted));
                if (File.Exists(path))
                {
                    files.Add((parentName, wanted, path));
                }
                continue;
            }
            foreach (var file in Directory.GetFiles(parentDirectory).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(file);
                if (AtomicFile.IsTemporary(name))
                {
                    continue;
                }
                // Only the lowercase form names a definition: it is what define writes and what -u finds, so an
                // uppercase file would be listed yet unreachable, and listed twice beside its lowercase twin.
                if (!MdevUuid.TryParse(name, out var fileUuid) || MdevUuid.Format(fileUuid) != name)
                {
                    Warning?.Invoke($"Can't determine uuid for file '{DeviceNames.Printable(name)}'");
                    continue;
                }
                files.Add((parentName, fileUuid, file));
            }
        }
        // The first bad file in order is the one reported, as when they are read one after the other.
        var loaded = new Definition[files.Count];
        AllCores.For(files.Count, i => loaded[i] = new Definition(files[i].Parent, files[i].Uuid, Read(files[i].Path)));
        return loaded;
    }

    /// <summary>Reads the one definition of (<paramref name="parent"/>, <paramref name="uuid"/>), if there is one.</summary>
    /// <exception cref="ConfigException">The file exists but is not a valid definition.</exception>
    public bool TryLoad(string parent, Guid uuid, out Definition definition)
    {
        definition = null!;
        var path = PathOf(parent, uuid);
        if (!File.Exists(path))
        {
            return false;
        }
        definition = new Definition(parent, uuid, Read(path));
        return true;
    }

    /// <summary>Whether <paramref name="uuid"/> is defined on any parent.</summary>
    public bool IsDefined(Guid uuid) =>
        Directory.Exists(environment.ConfigDirectory)
        && Directory.GetDirectories(environment.ConfigDirectory).Any(parent => File.Exists(Path.Join(parent, MdevUuid.Format(uuid))));

    /// <summary>Whether a definition exists for (<paramref name="parent"/>, <paramref name="uuid"/>).</summary>
    public bool Exists(string parent, Guid uuid) => File.Exists(PathOf(parent, uuid));

    /// <summary>Writes a definition atomically under the root's lock, making the parent's directory if needed.</summary>
    /// <exception cref="ArgumentException">The parent name would leave the configuration directory.</exception>
    public void Save(Definition definition)
    {
        var path = PathOf(definition.Parent, definition.Uuid);
        using var rootLock = RootLock.Acquire(environment);
        AtomicFile.Write(path, definition.Config.ToPrettyJson());
    }

    /// <summary>Deletes a definition under the root's lock. The parent's directory stays, as mdevctl leaves it (udev's autostart rule tests for it).</summary>
    public void Delete(string parent, Guid uuid)
    {
        var path = PathOf(parent, uuid);
        using var rootLock = RootLock.Acquire(environment);
        File.Delete(path);
    }

    // A definition that cannot be read or parsed is reported with its file, so that it can be found and mended.
    private static DeviceConfig Read(string path)
    {
        try
        {
            return DeviceConfig.Parse(SysfsRoot.ReadFile(path));
        }
        catch (SysfsException e)
        {
            throw new ConfigException(MdevctlException.OsError(e.Errno)) { Path = path };
        }
        catch (ConfigException e)
        {
            throw new ConfigException(e.Message) { Path = path };
        }
    }

    private string PathOf(string parent, Guid uuid)
    {
        if (!SysfsRoot.IsPathComponent(parent) || parent == MdevctlEnvironment.ScriptsDirectoryName)
        {
            throw new ArgumentException($"'{parent}' is not a parent device name", nameof(parent));
        }
        return Path.Join(environment.ConfigDirectory, parent, MdevUuid.Format(uuid));
    }
}
