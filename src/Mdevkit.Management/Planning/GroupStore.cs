using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>
/// Named sets of devices in <c>etc/mdevkit/groups/&lt;name&gt;</c>, one UUID a line: outside <c>etc/mdevctl.d</c>,
/// so mdevctl never sees them. Writes are atomic, and each change reads, checks and writes under the root's lock,
/// so changes made at once all land; a group whose last member goes is deleted.
/// </summary>
public sealed class GroupStore(MdevctlEnvironment environment)
{
    /// <summary>The directory of the groups.</summary>
    public string Directory => environment.Sysfs.PathOf(MdevkitPaths.GroupsDirectory);

    /// <summary>Every group's name, in byte order.</summary>
    public IReadOnlyList<string> Names() => System.IO.Directory.Exists(Directory)
        ? [.. System.IO.Directory.GetFiles(Directory).Select(Path.GetFileName).OfType<string>().Where(name => !name.StartsWith('.')).Order(StringComparer.Ordinal)]
        : [];

    /// <summary>A group's members in the order they were added; empty when there is no such group.</summary>
    /// <exception cref="MdevctlException">The name is not valid, or a line is not a UUID.</exception>
    public IReadOnlyList<Guid> Members(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path))
        {
            return [];
        }
        return [.. File.ReadAllLines(path).Where(line => line.Length > 0).Select(line => MdevUuid.TryParse(line, out var uuid)
            ? uuid
            : throw new MdevctlException($"Group file \"{path}\" has a line that is not a UUID: '{line}'"))];
    }

    /// <summary>Adds members (once each, in order).</summary>
    /// <exception cref="MdevctlException">A UUID has no definition: a group starts devices from their definitions.</exception>
    public void Add(string name, IEnumerable<Guid> uuids)
    {
        using var rootLock = RootLock.Acquire(environment);
        var members = Members(name);
        var added = uuids.ToList();
        var definitions = new DefinitionStore(environment);
        foreach (var uuid in added.Where(uuid => !definitions.IsDefined(uuid)))
        {
            throw new MdevctlException($"Mediated device {MdevUuid.Format(uuid)} is not defined: only defined devices can join group {name}");
        }
        Write(name, members.Concat(added).Distinct());
    }

    /// <summary>Removes members; the group goes with its last member.</summary>
    /// <exception cref="MdevctlException">A UUID is not a member.</exception>
    public void Remove(string name, IReadOnlyCollection<Guid> uuids)
    {
        using var rootLock = RootLock.Acquire(environment);
        var members = Members(name);
        if (uuids.FirstOrDefault(uuid => !members.Contains(uuid)) is var missing && missing != Guid.Empty)
        {
            throw new MdevctlException($"{MdevUuid.Format(missing)} is not a member of group {name}");
        }
        Write(name, members.Except(uuids));
    }

    private void Write(string name, IEnumerable<Guid> members)
    {
        var lines = members.Select(MdevUuid.Format).ToList();
        if (lines.Count == 0)
        {
            File.Delete(PathOf(name));
            return;
        }
        AtomicFile.Write(PathOf(name), string.Concat(lines.Select(line => line + "\n")));
    }

    private string PathOf(string name) => SysfsRoot.IsPathComponent(name) && !name.StartsWith('.')
        ? Path.Join(Directory, name)
        : throw new MdevctlException($"Invalid group name '{name}'");
}
