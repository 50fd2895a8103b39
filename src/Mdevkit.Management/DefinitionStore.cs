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
    /// <summary>
    /// Every definition, parents in byte order, devices by UUID text. A file or parent directory that vanishes while
    /// it is listed is left out, as mdevctl (1.4) leaves out a vanishing device; one that is not a regular file
    /// (a link, a FIFO…) is left out with a warning.
    /// </summary>
    /// <param name="parent">Only this parent's, when given.</param>
    /// <param name="uuid">Only this UUID's, when given.</param>
    /// <exception cref="ConfigException">A definition file is not valid; nothing is returned then, as in mdevctl.</exception>
    public IReadOnlyList<Definition> Load(string? parent = null, Guid? uuid = null)
    {
        var files = Files(parent, uuid);
        // The first bad file in order is the one reported, as when they are read one after the other; warnings
        // come in that order too, after the parallel reads.
        var configs = new DeviceConfig?[files.Count];
        var notRegular = new bool[files.Count];
        AllCores.For(files.Count, i => configs[i] = Read(files[i].Path, out notRegular[i]));
        var loaded = new List<Definition>(files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            if (notRegular[i])
            {
                WarnNotRegular(files[i].Path);
            }
            else if (configs[i] is { } config)
            {
                loaded.Add(new Definition(files[i].Parent, files[i].Uuid, config));
            }
        }
        return loaded;
    }

    /// <summary>
    /// The files that name definitions, parents in byte order, devices by UUID text, with a warning for each entry
    /// that cannot name one (a parent directory that is no parent name, a file that is no lowercase UUID).
    /// </summary>
    internal List<(string Parent, Guid Uuid, string Path)> Files(string? parent, Guid? uuid)
    {
        var files = new List<(string Parent, Guid Uuid, string Path)>();
        foreach (var parentDirectory in EntriesUnlessVanished(Directory.GetDirectories, environment.ConfigDirectory).Order(StringComparer.Ordinal))
        {
            var parentName = Path.GetFileName(parentDirectory);
            if (parentName == MdevctlEnvironment.ScriptsDirectoryName || (parent is not null && parentName != parent))
            {
                continue;
            }
            if (!DeviceNames.IsValid(parentName))
            {
                // mdevctl stops at such a name; no parent is called so, so its files can only be skipped.
                environment.Warn($"Can't determine parent for directory '{DeviceNames.Printable(parentName)}': not a valid parent name");
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
            foreach (var file in EntriesUnlessVanished(Directory.GetFiles, parentDirectory).Order(StringComparer.Ordinal))
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
                    environment.Warn($"Can't determine uuid for file '{DeviceNames.Printable(name)}'");
                    continue;
                }
                files.Add((parentName, fileUuid, file));
            }
        }
        return files;
    }

    /// <summary>Reads the one definition of (<paramref name="parent"/>, <paramref name="uuid"/>), if there is one.</summary>
    /// <exception cref="ConfigException">The file exists but is not a valid definition.</exception>
    public bool TryLoad(string parent, Guid uuid, out Definition definition)
    {
        definition = null!;
        var path = PathOf(parent, uuid);
        var config = Read(path, out var notRegular);
        if (notRegular)
        {
            WarnNotRegular(path);
        }
        if (config is null)
        {
            return false;
        }
        definition = new Definition(parent, uuid, config);
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
    /// <exception cref="MdevctlException">The parent's directory is a symbolic link.</exception>
    public void Save(Definition definition)
    {
        using var rootLock = RootLock.Acquire(environment);
        AtomicFile.Write(WritablePathOf(definition.Parent, definition.Uuid), definition.Config.ToPrettyJson());
    }

    /// <summary>Deletes a definition under the root's lock. The parent's directory stays, as mdevctl leaves it (udev's autostart rule tests for it).</summary>
    /// <exception cref="MdevctlException">The parent's directory is a symbolic link.</exception>
    public void Delete(string parent, Guid uuid)
    {
        using var rootLock = RootLock.Acquire(environment);
        File.Delete(WritablePathOf(parent, uuid));
    }

    /// <summary>
    /// The path of a definition to write or delete. Writes go only into directories of <c>etc/mdevctl.d</c> itself:
    /// a parent's directory that is a symbolic link would carry them wherever it points, out of the root.
    /// </summary>
    /// <exception cref="MdevctlException">The parent's directory is a symbolic link.</exception>
    internal string WritablePathOf(string parent, Guid uuid)
    {
        var path = PathOf(parent, uuid);
        var directory = Path.GetDirectoryName(path)!;
        if (new DirectoryInfo(directory).LinkTarget is { } target)
        {
            throw new MdevctlException(
                $"Refusing to write through '{directory}': it is a symbolic link (to '{target}'), and definitions are written only to directories inside '{environment.ConfigDirectory}'");
        }
        return path;
    }

    // null when the file vanished since it was listed, or (notRegularFile) when it is not a regular file. A
    // definition that cannot be read or parsed is reported with its file, so that it can be found and mended.
    internal static DeviceConfig? Read(string path, out bool notRegularFile)
    {
        notRegularFile = false;
        string text;
        try
        {
            if (!WholeFile.TryReadRegular(path, out text))
            {
                notRegularFile = true;
                return null;
            }
        }
        catch (SysfsException e) when (e.Errno == Errno.ENOENT)
        {
            return null;
        }
        catch (SysfsException e)
        {
            throw new ConfigException(MdevctlException.OsError(e.Errno)) { Path = path };
        }
        try
        {
            return DeviceConfig.Parse(text);
        }
        catch (ConfigException e)
        {
            throw new ConfigException(e.Problem) { Path = path };
        }
    }

    internal void WarnNotRegular(string path) => environment.Warn($"Skipping '{path}': not a regular file, so not a definition");

    // A directory's entries; none when it vanished (or never was), which a listing takes as it takes an empty one.
    private static string[] EntriesUnlessVanished(Func<string, string[]> list, string directory)
    {
        try
        {
            return list(directory);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
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
