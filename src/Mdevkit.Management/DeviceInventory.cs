using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>A device as a listing shows it: where it is, its configuration, and whether it runs and is defined.</summary>
/// <param name="Uuid">The device's UUID.</param>
/// <param name="Parent">Its parent.</param>
/// <param name="Config">Type, start mode and attributes.</param>
/// <param name="IsActive">Whether it exists in the kernel (on this parent, with this type).</param>
/// <param name="IsDefined">Whether a definition for (parent, UUID) exists.</param>
public sealed record ListedDevice(Guid Uuid, string Parent, DeviceConfig Config, bool IsActive, bool IsDefined);

/// <summary>Joins what runs (sysfs) with what is defined (<c>etc/mdevctl.d</c>), the way mdevctl's listings do.</summary>
/// <param name="environment">The root.</param>
/// <param name="definitions">Its definitions.</param>
/// <param name="callouts">Its callout scripts.</param>
/// <param name="kernel">Where devices live; mdev alone when null.</param>
public sealed class DeviceInventory(MdevctlEnvironment environment, DefinitionStore definitions, Callouts callouts, KernelDevices? kernel = null)
{
    private readonly KernelDevices _kernel = kernel ?? new KernelDevices(environment, vendorVfio: false);

    /// <summary>
    /// The active devices. Start mode and the <c>(defined)</c> mark come from a definition on the same
    /// parent; attributes only from a callout script, since the kernel cannot tell them.
    /// </summary>
    public IReadOnlyList<ListedDevice> Active(Guid? uuid = null, string? parent = null)
    {
        var running = uuid is { } wanted
            ? _kernel.TryGetActive(wanted, out var one) ? [one] : []
            : SysfsReads.Read(_kernel.Active);
        var devices = running.Where(device => parent is null || device.Parent == parent).ToArray();
        var found = new ListedDevice[devices.Length];
        AllCores.For(devices.Length, i =>
        {
            var (defined, autoStart) = DefinitionOf(devices[i]);
            found[i] = new ListedDevice(devices[i].Uuid, devices[i].Parent, new DeviceConfig(devices[i].Type, autoStart, []), IsActive: true, IsDefined: defined);
        });
        // Callout scripts run one after the other, as mdevctl runs them.
        var listed = found.Select(device => device with { Config = device.Config with { Attributes = AttributesFromCallout(new Definition(device.Parent, device.Uuid, device.Config)) } });
        return Sorted(listed);
    }

    /// <summary>The defined devices; <c>(active)</c> when the UUID runs on the same parent with the same type.</summary>
    /// <exception cref="ConfigException">A definition file is not valid.</exception>
    public IReadOnlyList<ListedDevice> Defined(Guid? uuid = null, string? parent = null)
    {
        var active = SysfsReads.Read(_kernel.Active).ToDictionary(device => device.Uuid);
        var listed = definitions.Load(parent, uuid).Select(definition =>
        {
            var running = active.TryGetValue(definition.Uuid, out var device)
                && device.Parent == definition.Parent && device.Type == definition.Config.MdevType;
            return new ListedDevice(definition.Uuid, definition.Parent, definition.Config, running, IsDefined: true);
        });
        return Sorted(listed);
    }

    /// <summary>Each parent's types, parents in byte order, types by id; a parent unplugged while it is read is left out.</summary>
    /// <exception cref="MdevctlException">A registered parent has no <c>mdev_supported_types</c>, or a type file cannot be read.</exception>
    public IReadOnlyList<(string Parent, IReadOnlyList<MdevTypeInfo> Types)> Types(string? parent = null)
    {
        try
        {
            var names = _kernel.ParentNames().Where(name => parent is null || name == parent).ToArray();
            var types = new IReadOnlyList<MdevTypeInfo>?[names.Length];
            AllCores.For(names.Length, i => types[i] = TypesUnlessUnplugged(names[i]));
            return [.. names.Zip(types).Where(pair => pair.Second is not null).Select(pair => (pair.First, pair.Second!))];
        }
        catch (SysfsException e)
        {
            // mdevctl names only the operating system's error here, not the file.
            throw new MdevctlException(MdevctlException.OsError(e.Errno));
        }
    }

    // A parent that fails to read and is gone was unplugged meanwhile, as a vanishing device is. One that is
    // there again may have been unplugged and re-plugged in between: it is read once more, and then fails for real.
    private IReadOnlyList<MdevTypeInfo>? TypesUnlessUnplugged(string parent)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return _kernel.Types(parent);
            }
            catch (SysfsException) when (!_kernel.ParentExists(parent))
            {
                return null;
            }
            catch (SysfsException) when (attempt == 1)
            {
            }
        }
    }

    // Whether the running device is defined on its parent, and its start mode from there; an unreadable
    // definition still counts as defined, with manual start, as in mdevctl.
    private (bool Defined, bool AutoStart) DefinitionOf(ActiveDevice device)
    {
        if (!SysfsRoot.IsPathComponent(device.Parent))
        {
            return (false, false);
        }
        try
        {
            return definitions.TryLoad(device.Parent, device.Uuid, out var definition) ? (true, definition.Config.AutoStart) : (false, false);
        }
        catch (ConfigException)
        {
            return (true, false);
        }
    }

    // A script that fails or answers nonsense does not spoil the listing, as in mdevctl.
    private IReadOnlyList<KeyValuePair<string, string>> AttributesFromCallout(Definition device)
    {
        try
        {
            return callouts.GetAttributes(device) ?? [];
        }
        catch (MdevctlException)
        {
            return [];
        }
    }

    // Parents by byte order, then devices by UUID: the UUID's bytes, which is its lowercase text order.
    private static List<ListedDevice> Sorted(IEnumerable<ListedDevice> devices) =>
        [.. devices.OrderBy(device => device.Parent, StringComparer.Ordinal).ThenBy(device => MdevUuid.Format(device.Uuid), StringComparer.Ordinal)];
}
