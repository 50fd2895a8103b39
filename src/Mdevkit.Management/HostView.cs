using System.Collections.Immutable;
using System.Globalization;
using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>What made part of a <see cref="HostView"/> stale, as an event tells it.</summary>
public abstract record HostChange
{
    private HostChange()
    {
    }

    /// <summary>A device appeared, went or changed; its parent's availability (and that of parents sharing its physical device) with it.</summary>
    /// <param name="Uuid">The device.</param>
    /// <param name="Parent">The parent the event names, if any.</param>
    /// <param name="InUse">Whether the event may tell of an open or a release (a <c>change</c>), so the holders are read again.</param>
    public sealed record DeviceChanged(Guid Uuid, string? Parent, bool InUse = false) : HostChange;

    /// <summary>Processes may have opened or closed devices without an event (the kernel sends none when a VFIO group is opened).</summary>
    public sealed record HoldersChanged : HostChange;

    /// <summary>A device that may be a parent was registered, unregistered, plugged, unplugged, bound or unbound.</summary>
    public sealed record ParentChanged(string Name) : HostChange;

    /// <summary>The definition file of (<paramref name="Parent"/>, <paramref name="Uuid"/>) was written, replaced or removed.</summary>
    public sealed record DefinitionChanged(string Parent, Guid Uuid) : HostChange;

    /// <summary>A parent's directory of definitions appeared, went or was renamed.</summary>
    public sealed record DefinitionDirectoryChanged(string Parent) : HostChange;

    /// <summary>Events were lost: anything may have changed.</summary>
    public sealed record EventsLost : HostChange;

    /// <summary>
    /// What a udev event (the kernel's, as udev passes it on) makes stale: an mdev's add, remove or change is that
    /// device; a vendor-specific VFIO vGPU's character device is its slot; any other device may be a parent.
    /// </summary>
    /// <param name="properties">The event's properties (<c>DEVPATH</c>, <c>SUBSYSTEM</c>…).</param>
    /// <returns>The change, or null when the event names no device.</returns>
    public static HostChange? FromUdev(IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        string? subsystem = null;
        string? action = null;
        string[] path = [];
        foreach (var (key, value) in properties)
        {
            if (key == "SUBSYSTEM")
            {
                subsystem = value;
            }
            else if (key == "ACTION")
            {
                action = value;
            }
            else if (key == "DEVPATH")
            {
                path = value.Split('/', StringSplitOptions.RemoveEmptyEntries);
            }
        }
        return path switch
        {
            [.., var parent, var name] when subsystem == "mdev" && MdevUuid.TryParse(name, out var uuid) => new DeviceChanged(uuid, parent, InUse: action == "change"),
            [.., var function, SysfsNames.VfioDevClass, _] => new ParentChanged(function),
            [.., var device] => new ParentChanged(device),
            [] => null,
        };
    }
}

/// <summary>
/// The host as listings show it (parents and their types, running devices, definitions), kept in memory and
/// brought up to date one device, parent or definition at a time from what events say changed, so that reads
/// do not scan sysfs. Its answers are those of <see cref="DeviceInventory"/> at the time of the last refresh.
/// </summary>
/// <remarks>
/// Readers take <see cref="Current"/>, an immutable snapshot, and never wait. Refreshes run one at a time and
/// read the host only once they run: a change that happens while a refresh (even a full scan) is under way is
/// told by its event afterwards and read again then, so no entry stays older than the last event about it.
/// </remarks>
public sealed class HostView(ManagedHost host)
{
    private readonly Lock _refreshing = new();
    private HostSnapshot? _current;
    private long _version;

    private KernelDevices Kernel => host.Kernel;

    /// <summary>The latest snapshot; the first read scans the whole host.</summary>
    /// <remarks>
    /// NVIDIA's vendor-specific VFIO vGPUs come and go without a uevent (a write to <c>current_vgpu_type</c>): a
    /// host with such slots has them read again on each read, with what they share.
    /// </remarks>
    public HostSnapshot Current
    {
        get
        {
            var current = Volatile.Read(ref _current) ?? Refresh([]);
            return current.VendorSlots.Count == 0 ? current : Refresh(current.VendorSlots.Select(slot => new HostChange.ParentChanged(slot)));
        }
    }

    /// <summary>Reads again what <paramref name="changes"/> made stale, and publishes the result as one new snapshot.</summary>
    /// <returns>The new snapshot.</returns>
    public HostSnapshot Refresh(IEnumerable<HostChange> changes)
    {
        var stale = changes.ToList();
        lock (_refreshing)
        {
            var current = _current;
            if (current is not null && stale.Count == 0)
            {
                return current;
            }
            HostSnapshot next;
            try
            {
                next = current is null || current.Failure is not null || stale.Any(change => change is HostChange.EventsLost)
                    ? Scan()
                    : Update(current, stale);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or MdevctlException)
            {
                // Part of the host could not be read: the whole is read again, and failing that, reads tell why.
                next = Scan();
            }
            Volatile.Write(ref _current, next);
            return next;
        }
    }

    /// <summary>Scans the whole host again, as at start and after lost events.</summary>
    public HostSnapshot RefreshAll() => Refresh([new HostChange.EventsLost()]);

    /// <summary>Reads again which process holds each running device; a new snapshot only when one changed.</summary>
    /// <returns>The running devices whose holder changed.</returns>
    public IReadOnlyList<(Guid Uuid, string Parent)> RefreshHolders()
    {
        var before = Volatile.Read(ref _current)?.Holders ?? ImmutableDictionary<Guid, DeviceHolder>.Empty;
        var after = Refresh([new HostChange.HoldersChanged()]);
        return [.. after.Active.Values.Where(device => before.GetValueOrDefault(device.Uuid) != after.Holders.GetValueOrDefault(device.Uuid)).Select(device => (device.Uuid, device.Parent))];
    }

    private HostSnapshot Scan()
    {
        try
        {
            var definitions = ImmutableSortedDictionary.CreateBuilder<DefinitionKey, DefinitionEntry>(DefinitionKey.Order);
            AddDefinitions(definitions, host.Definitions.Files(null, null));
            var names = Kernel.ParentNames();
            var parents = ImmutableSortedDictionary.CreateBuilder<string, ParentEntry>(StringComparer.Ordinal);
            foreach (var (name, entry) in names.Zip(ReadParents(names, null)))
            {
                if (entry is not null)
                {
                    parents[name] = entry;
                }
            }
            var active = ImmutableDictionary.CreateBuilder<Guid, ListedDevice>();
            foreach (var device in Kernel.Active())
            {
                active[device.Uuid] = List(device, definitions);
            }
            var version = ++_version;
            return new HostSnapshot(version, parents.ToImmutable(), active.ToImmutable(), definitions.ToImmutable(), null, version, ReadHolders(active));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MdevctlException)
        {
            var failure = e switch
            {
                MdevctlException refused => refused,
                SysfsException sysfs => new MdevctlException($"{sysfs.Path}: {MdevctlException.OsError(sysfs.Errno)}"),
                _ => MdevctlException.Wrap("Unable to read the host", e),
            };
            var failed = ++_version;
            return new HostSnapshot(failed, ImmutableSortedDictionary<string, ParentEntry>.Empty, ImmutableDictionary<Guid, ListedDevice>.Empty,
                ImmutableSortedDictionary<DefinitionKey, DefinitionEntry>.Empty, failure, failed, ImmutableDictionary<Guid, DeviceHolder>.Empty);
        }
    }

    private HostSnapshot Update(HostSnapshot current, List<HostChange> changes)
    {
        var definitions = current.Definitions.ToBuilder();
        var active = current.Active.ToBuilder();
        var parents = current.Parents.ToBuilder();
        var devices = new HashSet<Guid>();
        var availability = new HashSet<string>(StringComparer.Ordinal);
        var registrations = new HashSet<string>(StringComparer.Ordinal);
        // The parents whose devices or definitions may have changed.
        var touched = new HashSet<string>(StringComparer.Ordinal);

        // Definitions first: how a running device is listed depends on its definition.
        foreach (var change in changes)
        {
            var (parent, uuid) = change switch
            {
                HostChange.DefinitionChanged defined => (defined.Parent, (Guid?)defined.Uuid),
                HostChange.DefinitionDirectoryChanged directory => (directory.Parent, null),
                _ => (null, null),
            };
            if (parent is null || parent == MdevctlEnvironment.ScriptsDirectoryName || !SysfsRoot.IsPathComponent(parent))
            {
                continue;
            }
            var gone = definitions.Keys.Where(key => key.Parent == parent && (uuid is null || key.Uuid == uuid)).ToList();
            definitions.RemoveRange(gone);
            var files = host.Definitions.Files(parent, uuid);
            AddDefinitions(definitions, files);
            touched.Add(parent);
            devices.UnionWith(gone.Select(key => key.Uuid).Concat(files.Select(file => file.Uuid)).Where(active.ContainsKey));
        }
        foreach (var change in changes)
        {
            if (change is HostChange.DeviceChanged device)
            {
                devices.Add(device.Uuid);
                availability.Add(device.Parent ?? "");
            }
            else if (change is HostChange.ParentChanged parent)
            {
                registrations.Add(parent.Name);
                // Its devices go with it when it goes.
                devices.UnionWith(active.Values.Where(listed => listed.Parent == parent.Name).Select(listed => listed.Uuid));
            }
        }

        // An mdev device is looked up by its UUID; a vGPU of NVIDIA's vendor-specific VFIO is read with its slot,
        // which the kernel knows by function, not by UUID (looking it up by UUID would read every slot).
        bool IsKnownSlot(string? parent) => parent is not null && parents.TryGetValue(parent, out var entry) && entry.VendorSlot;
        foreach (var change in changes.OfType<HostChange.DeviceChanged>().Where(change => IsKnownSlot(change.Parent)))
        {
            registrations.Add(change.Parent!);
        }
        foreach (var uuid in devices)
        {
            if (active.TryGetValue(uuid, out var old))
            {
                availability.Add(old.Parent);
                touched.Add(old.Parent);
                active.Remove(uuid);
                if (IsKnownSlot(old.Parent))
                {
                    registrations.Add(old.Parent);
                }
            }
            if (host.Environment.Sysfs.TryGetActiveDevice(uuid, out var running))
            {
                availability.Add(running.Parent);
                touched.Add(running.Parent);
                active[uuid] = List(running, definitions);
            }
        }
        foreach (var slot in registrations.Where(Kernel.IsVendorSlot))
        {
            // Its vGPU and the record that names it change together under the root's lock: read them under it too.
            using var rootLock = RootLock.Acquire(host.Environment);
            foreach (var stale in active.Values.Where(listed => listed.Parent == slot).ToList())
            {
                active.Remove(stale.Uuid);
            }
            if (Kernel.TryGetVendorDevice(slot, out var vgpu))
            {
                active[vgpu.Uuid] = List(vgpu, definitions);
            }
            touched.Add(slot);
        }

        // Holders are read again (one walk of /proc) only when an event may tell of an open or a release; otherwise
        // a device keeps its holder while it runs.
        var holders = current.Holders.RemoveRange(current.Holders.Keys.Where(uuid => !active.ContainsKey(uuid)));
        if (changes.Any(change => change is HostChange.DeviceChanged { InUse: true } or HostChange.HoldersChanged))
        {
            var read = ReadHolders(active);
            var changed = holders.Keys.Union(read.Keys).Where(uuid => holders.GetValueOrDefault(uuid) != read.GetValueOrDefault(uuid)).ToList();
            if (changed.Count == 0 && changes.All(change => change is HostChange.HoldersChanged))
            {
                // A poll that finds the same holders changes nothing.
                return current;
            }
            touched.UnionWith(changed.Select(uuid => active[uuid].Parent));
            holders = read;
        }

        availability.UnionWith(registrations);
        availability.Remove("");
        var names = WithSharers(availability, parents).ToList();
        // A device made or removed changes only how many more its parent (and its sharers) can take; a parent that
        // came, went or changed is read whole.
        var known = names.Select(name => registrations.Contains(name) ? null : parents.GetValueOrDefault(name)).ToList();
        foreach (var (name, entry) in names.Zip(ReadParents(names, known)))
        {
            if (entry is null)
            {
                parents.Remove(name);
            }
            else
            {
                parents[name] = entry;
            }
        }
        var version = ++_version;
        return new HostSnapshot(version, parents.ToImmutable(), active.ToImmutable(), definitions.ToImmutable(), null, current.ScanVersion, holders,
            current.DeviceStamps.SetItems(touched.Select(parent => KeyValuePair.Create(parent, version))));
    }

    // Who holds each running device: the process with a VFIO node open that gives access to it (one walk of /proc,
    // and the IOMMU groups of the nodes held, if any).
    private ImmutableDictionary<Guid, DeviceHolder> ReadHolders(IReadOnlyDictionary<Guid, ListedDevice> active)
    {
        var holders = ImmutableDictionary.CreateBuilder<Guid, DeviceHolder>();
        IReadOnlyDictionary<string, NodeHolder> nodes;
        try
        {
            nodes = host.Environment.Sysfs.GetVfioHolders();
        }
        catch (SysfsException)
        {
            // No /proc to read (a container without it): no holder is known, and the rest of the view stands.
            return holders.ToImmutable();
        }
        foreach (var (node, process) in nodes)
        {
            foreach (var uuid in DevicesBehind(node, active))
            {
                holders.TryAdd(uuid, DeviceHolder.Of(process));
            }
        }
        return holders.ToImmutable();
    }

    // The running devices a VFIO node opens: the members of its group (an mdev by its UUID, a function by the vGPU
    // on it), or the function of a character device.
    private IEnumerable<Guid> DevicesBehind(string node, IReadOnlyDictionary<Guid, ListedDevice> active)
    {
        var sysfs = host.Environment.Sysfs;
        IReadOnlyList<string> members;
        try
        {
            members = int.TryParse(node, NumberStyles.None, CultureInfo.InvariantCulture, out var group) ? sysfs.GetIommuGroupDevices(group)
                : sysfs.GetVfioDeviceFunction(Path.GetFileName(node)) is { } function ? [function] : [];
        }
        catch (SysfsException)
        {
            return [];
        }
        return members.SelectMany(member => MdevUuid.TryParse(member, out var uuid)
            ? active.ContainsKey(uuid) ? [uuid] : []
            : active.Values.Where(device => device.Parent == member).Select(device => device.Uuid));
    }

    // Parents of one physical device share its capacity (the virtual functions of an SR-IOV GPU): a device made
    // on one changes what the others offer, without an event of theirs.
    private IEnumerable<string> WithSharers(IEnumerable<string> names, ImmutableSortedDictionary<string, ParentEntry>.Builder parents)
    {
        // A parent keeps its physical function while it is registered: a known one's is not read again.
        var physical = names.Select(name => (parents.TryGetValue(name, out var known) ? known.PhysicalFunction : PhysicalFunctionOf(name)) ?? name)
            .ToHashSet(StringComparer.Ordinal);
        return names.Concat(parents.Where(parent => physical.Contains(parent.Value.PhysicalFunction ?? parent.Key)).Select(parent => parent.Key))
            .Distinct(StringComparer.Ordinal);
    }

    // Each parent's types, or null for one that is not (or no longer) a parent. A parent with an entry in known
    // (an mdev parent read before) has only its availability read again, unless its types are others now.
    private ParentEntry?[] ReadParents(IReadOnlyList<string> names, List<ParentEntry?>? known)
    {
        var entries = new ParentEntry?[names.Count];
        AllCores.For(names.Count, i =>
        {
            if (known?[i] is { } before && Availability(names[i], before) is { } after)
            {
                entries[i] = after;
                return;
            }
            try
            {
                entries[i] = Kernel.ParentExists(names[i]) && Kernel.TypesUnlessUnplugged(names[i]) is { } types
                    ? new ParentEntry(types, null, PhysicalFunctionOf(names[i]), Kernel.IsVendorSlot(names[i]))
                    : null;
            }
            catch (SysfsException e)
            {
                entries[i] = new ParentEntry([], e.Errno, PhysicalFunctionOf(names[i]), Kernel.IsVendorSlot(names[i]));
            }
        });
        return entries;
    }

    // A known mdev parent with its available instances read again (the same entry when none changed); null when it
    // must be read whole: it failed before, is a vendor slot, offers other types now, or a file failed to read.
    private ParentEntry? Availability(string parent, ParentEntry before)
    {
        if (before.Failure is not null || before.VendorSlot || before.Types.Count == 0)
        {
            return null;
        }
        IReadOnlyList<int>? counts;
        try
        {
            counts = host.Environment.Sysfs.GetAvailableInstances(parent, [.. before.Types.Select(type => type.Id)]);
        }
        catch (SysfsException)
        {
            return null;
        }
        if (counts is null)
        {
            return null;
        }
        return counts.SequenceEqual(before.Types.Select(type => type.AvailableInstances))
            ? before
            : before with { Types = [.. before.Types.Zip(counts, (type, count) => type.AvailableInstances == count ? type : type with { AvailableInstances = count })] };
    }

    private string? PhysicalFunctionOf(string parent)
    {
        try
        {
            return PciAddress.TryParse(parent, out _) ? host.Environment.Sysfs.GetPhysicalFunction(parent) : null;
        }
        catch (SysfsException)
        {
            return null;
        }
    }

    // Reads definition files in parallel; a file that vanished or is no regular file is left out, one that is not
    // valid is kept as its error, which a listing of definitions then reports.
    private void AddDefinitions(ImmutableSortedDictionary<DefinitionKey, DefinitionEntry>.Builder definitions, List<(string Parent, Guid Uuid, string Path)> files)
    {
        var entries = new DefinitionEntry?[files.Count];
        var notRegular = new bool[files.Count];
        AllCores.For(files.Count, i =>
        {
            var (parent, uuid, path) = files[i];
            try
            {
                entries[i] = DefinitionStore.Read(path, out notRegular[i]) is { } config ? new DefinitionEntry(new Definition(parent, uuid, config), null) : null;
            }
            catch (ConfigException e)
            {
                entries[i] = new DefinitionEntry(null, e);
            }
        });
        for (var i = 0; i < files.Count; i++)
        {
            if (notRegular[i])
            {
                host.Definitions.WarnNotRegular(files[i].Path);
            }
            else if (entries[i] is { } entry)
            {
                definitions[new DefinitionKey(files[i].Parent, files[i].Uuid)] = entry;
            }
        }
    }

    // A running device as Active lists it: defined (and its start mode) from a definition on its parent; one that
    // cannot be read still counts as defined, with manual start.
    private ListedDevice List(ActiveDevice device, ImmutableSortedDictionary<DefinitionKey, DefinitionEntry>.Builder definitions) =>
        definitions.TryGetValue(new DefinitionKey(device.Parent, device.Uuid), out var entry)
            ? host.Inventory.ListActive(device, defined: true, autoStart: entry.Definition?.Config.AutoStart ?? false)
            : host.Inventory.ListActive(device, defined: false, autoStart: false);
}

/// <summary>A definition's place: its parent, then its UUID, ordered as listings order them (bytes, then UUID text).</summary>
internal readonly record struct DefinitionKey(string Parent, Guid Uuid)
{
    public static readonly IComparer<DefinitionKey> Order = Comparer<DefinitionKey>.Create(static (a, b) =>
        string.CompareOrdinal(a.Parent, b.Parent) is var byParent and not 0 ? byParent : string.CompareOrdinal(MdevUuid.Format(a.Uuid), MdevUuid.Format(b.Uuid)));
}

/// <summary>A definition file: what it defines, or why it cannot be read.</summary>
internal sealed record DefinitionEntry(Definition? Definition, ConfigException? Error);

/// <summary>
/// A parent: its types, or the errno reading them failed with; its physical function, when it is a virtual one; and
/// whether it is a vendor-specific VFIO slot.
/// </summary>
internal sealed record ParentEntry(IReadOnlyList<MdevTypeInfo> Types, Errno? Failure, string? PhysicalFunction, bool VendorSlot);

/// <summary>One immutable state of a <see cref="HostView"/>, answering as <see cref="DeviceInventory"/> answered when it was taken.</summary>
public sealed class HostSnapshot
{
    private IReadOnlyList<ListedDevice>? _active;
    private IReadOnlyList<ListedDevice>? _defined;
    private IReadOnlyList<string>? _vendorSlots;

    private static readonly ImmutableDictionary<string, long> s_noStamps = ImmutableDictionary.Create<string, long>(StringComparer.Ordinal);

    internal HostSnapshot(long version, ImmutableSortedDictionary<string, ParentEntry> parents, ImmutableDictionary<Guid, ListedDevice> active,
        ImmutableSortedDictionary<DefinitionKey, DefinitionEntry> definitions, MdevctlException? failure, long scanVersion,
        ImmutableDictionary<Guid, DeviceHolder> holders, ImmutableDictionary<string, long>? deviceStamps = null)
    {
        Holders = holders;
        Version = version;
        Parents = parents;
        Active = active;
        Definitions = definitions;
        Failure = failure;
        ScanVersion = scanVersion;
        DeviceStamps = deviceStamps ?? s_noStamps;
    }

    /// <summary>Which state of its view this is: each refresh publishes a higher one.</summary>
    public long Version { get; }

    // The version of the last full scan up to this snapshot.
    internal long ScanVersion { get; }

    // For each parent changed since that scan, the version of the snapshot that last changed its running devices or definitions.
    internal ImmutableDictionary<string, long> DeviceStamps { get; }

    /// <summary>
    /// A stamp of <paramref name="parent"/>'s running devices and definitions: two snapshots of one view with the same
    /// stamp for a parent list the same devices on it, so what was built from them can be kept.
    /// </summary>
    public long DevicesStamp(string parent) => DeviceStamps.TryGetValue(parent, out var stamp) ? stamp : ScanVersion;

    internal ImmutableSortedDictionary<string, ParentEntry> Parents { get; }

    internal ImmutableDictionary<Guid, ListedDevice> Active { get; }

    internal ImmutableDictionary<Guid, DeviceHolder> Holders { get; }

    /// <summary>The process that has the running device open, if one has; a change of holder changes its parent's <see cref="DevicesStamp"/>.</summary>
    public DeviceHolder? HolderOf(Guid uuid) => Holders.GetValueOrDefault(uuid);

    internal ImmutableSortedDictionary<DefinitionKey, DefinitionEntry> Definitions { get; }

    /// <summary>The parents that are vendor-specific VFIO slots.</summary>
    internal IReadOnlyList<string> VendorSlots => _vendorSlots ??= [.. Parents.Where(parent => parent.Value.VendorSlot).Select(parent => parent.Key)];

    /// <summary>Why the host could not be read at all (sysfs itself failed), if it could not.</summary>
    internal MdevctlException? Failure { get; }

    /// <summary>As <see cref="DeviceInventory.Types"/>.</summary>
    /// <exception cref="MdevctlException">A parent's types could not be read.</exception>
    public IReadOnlyList<(string Parent, IReadOnlyList<MdevTypeInfo> Types)> Types(string? parent = null)
    {
        ThrowIfFailed();
        var parents = parent is null ? Parents : Parents.Where(entry => entry.Key == parent);
        if (parents.FirstOrDefault(entry => entry.Value.Failure is not null).Value is { Failure: { } errno })
        {
            throw new MdevctlException(MdevctlException.OsError(errno));
        }
        return [.. parents.Select(entry => (entry.Key, entry.Value.Types))];
    }

    /// <summary>As <see cref="DeviceInventory.Active"/> with no filter.</summary>
    /// <exception cref="MdevctlException">Sysfs could not be read.</exception>
    public IReadOnlyList<ListedDevice> ActiveDevices()
    {
        ThrowIfFailed();
        return _active ??= DeviceInventory.Sorted(Active.Values);
    }

    /// <summary>As <see cref="DeviceInventory.Defined"/> with no filter.</summary>
    /// <exception cref="MdevctlException">Sysfs could not be read, or a definition is not valid (the first in order).</exception>
    public IReadOnlyList<ListedDevice> DefinedDevices()
    {
        ThrowIfFailed();
        if (_defined is { } defined)
        {
            return defined;
        }
        if (Definitions.Values.FirstOrDefault(entry => entry.Error is not null)?.Error is { } error)
        {
            throw error;
        }
        return _defined = [.. Definitions.Values.Select(entry => entry.Definition!).Select(definition =>
        {
            var running = Active.TryGetValue(definition.Uuid, out var device) && device.Parent == definition.Parent && device.Config.MdevType == definition.Config.MdevType;
            return new ListedDevice(definition.Uuid, definition.Parent, definition.Config, running, IsDefined: true);
        })];
    }

    private void ThrowIfFailed()
    {
        if (Failure is not null)
        {
            throw Failure;
        }
    }
}
