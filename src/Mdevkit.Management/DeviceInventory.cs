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
        var definedOn = new (bool Defined, bool AutoStart)[devices.Length];
        AllCores.For(devices.Length, i => definedOn[i] = DefinitionOf(devices[i]));
        // Callout scripts run one after the other, as mdevctl runs them.
        return Sorted(devices.Select((device, i) => ListActive(device, definedOn[i].Defined, definedOn[i].AutoStart)));
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
            AllCores.For(names.Length, i => types[i] = _kernel.TypesUnlessUnplugged(names[i]));
            return [.. names.Zip(types).Where(pair => pair.Second is not null).Select(pair => (pair.First, pair.Second!))];
        }
        catch (SysfsException e)
        {
            // mdevctl names only the operating system's error here, not the file.
            throw new MdevctlException(MdevctlException.OsError(e.Errno));
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

    /// <summary>An active device as <see cref="Active"/> lists it, given whether it is defined on its parent (and its start mode there).</summary>
    internal ListedDevice ListActive(ActiveDevice device, bool defined, bool autoStart) =>
        WithCalloutAttributes(new ListedDevice(device.Uuid, device.Parent, new DeviceConfig(device.Type, autoStart, []), IsActive: true, IsDefined: defined));

    // The attributes a callout script tells; a script that fails or answers nonsense does not spoil the listing, as in mdevctl.
    private ListedDevice WithCalloutAttributes(ListedDevice device)
    {
        try
        {
            return device with { Config = device.Config with { Attributes = callouts.GetAttributes(new Definition(device.Parent, device.Uuid, device.Config)) ?? [] } };
        }
        catch (MdevctlException)
        {
            return device;
        }
    }

    // Parents by byte order, then devices by UUID: the UUID's bytes, which is its lowercase text order.
    internal static List<ListedDevice> Sorted(IEnumerable<ListedDevice> devices) =>
        [.. devices.OrderBy(device => device.Parent, StringComparer.Ordinal).ThenBy(device => MdevUuid.Format(device.Uuid), StringComparer.Ordinal)];
}
