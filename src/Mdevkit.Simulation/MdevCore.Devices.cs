using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

public sealed partial class MdevCore
{
    private const string MdevSubsystem = "mdev";
    private const string DriverVariable = "DRIVER";

    /// <summary>A write to a type's <c>create</c> file (<c>create_store</c>): parse, then <see cref="Create(MdevType, Guid)"/>.</summary>
    public Errno Create(MdevType type, ReadOnlySpan<byte> input)
    {
        var parsed = MdevUuid.ParseCreateInput(input, out var uuid);
        return parsed != Errno.None ? parsed : Create(type, uuid);
    }

    /// <summary>
    /// Creates a device (<c>mdev_device_create</c>): ENODEV while the parent unregisters, EEXIST for a UUID
    /// in use on any parent, EUSERS when the core's counter is exhausted, else the driver's probe decides.
    /// A failed probe is unwound in reverse, leaving no trace but the add/remove uevents.
    /// </summary>
    public Errno Create(MdevType type, Guid uuid) => Change(() =>
    {
        var parent = type.Parent;
        if (parent.IsUnregistering || !_parents.ContainsKey(parent.Name) || type.Directory is null)
        {
            return Errno.ENODEV;
        }
        if (_devices.ContainsKey(uuid))
        {
            return Errno.EEXIST;
        }
        var counted = parent.Driver is not IAvailabilityHook;
        if (counted)
        {
            if (parent.AvailableInstances == 0)
            {
                return Errno.EUSERS;
            }
            parent.AvailableInstances--;
        }

        var device = new MdevDevice(uuid, type);
        AddDeviceDirectory(device);
        device.IommuGroup = _iommuGroups.Add(device.Directory);
        var probe = parent.Driver.Probe(device);
        if (probe != Errno.None)
        {
            _iommuGroups.Release(device.IommuGroup, device.Directory);
            RemoveDeviceDirectory(device);
            if (counted)
            {
                parent.AvailableInstances++;
            }
            return probe;
        }
        BindDriver(device);
        AddUseFiles(device);
        // mdev_create_sysfs_files runs after the bind, which is why consumers wait for mdev_type.
        _tree.CreateLink(type.DevicesDirectory!, device.Name, device.Directory);
        _tree.CreateLink(device.Directory, SysfsNames.MdevType, type.Directory!);
        _devices.Add(uuid, device);
        parent.DeviceList.Add(device);
        RefreshTypeVisibility(parent);
        return Errno.None;
    });

    /// <summary>A write to a device's <c>remove</c> file: <c>kstrtoul</c> text, 0 does nothing, anything else removes.</summary>
    public Errno Remove(MdevDevice device, ReadOnlySpan<byte> input)
    {
        if (KernelNumber.ParseUnsigned(input, out var value) != Errno.None)
        {
            return Errno.EINVAL;
        }
        if (value == 0)
        {
            return Errno.None;
        }
        return RemoveOnceReleased(device);
    }

    /// <summary>
    /// Removes a device (<c>mdev_device_remove</c>) at once, held or not: ENODEV if it is already gone or its
    /// parent is unregistering. A write to <c>remove</c> first waits for the holder (<see cref="RemoveWhileOpen"/>).
    /// </summary>
    public Errno Remove(MdevDevice device) => Change(() => RemoveNowLocked(device));

    private Errno RemoveNowLocked(MdevDevice device)
    {
        if (device.IsRemoved || device.Parent.IsUnregistering)
        {
            return Errno.ENODEV;
        }
        RemoveLocked(device);
        RefreshTypeVisibility(device.Parent);
        return Errno.None;
    }

    private void RemoveLocked(MdevDevice device)
    {
        // Reached with the device still open only when its parent goes away; the holder loses it.
        ReleaseLocked(device);
        device.IsRemoved = true;
        if (device.Node is { } node)
        {
            _tree.Remove(node);
        }
        var parent = device.Parent;
        if (device.Type.DevicesDirectory is { } typeDevices && _tree.TryLookup(typeDevices.Path + "/" + device.Name, out var typeLink))
        {
            _tree.Remove(typeLink);
        }
        UnbindDriver(device);
        _iommuGroups.Release(device.IommuGroup, device.Directory);
        RemoveDeviceDirectory(device);
        _devices.Remove(device.Uuid);
        parent.DeviceList.Remove(device);
        if (parent.Driver is not IAvailabilityHook)
        {
            parent.AvailableInstances++;
        }
    }

    // device_add: the directory with the core's attributes, the bus link, and the "add" event.
    private void AddDeviceDirectory(MdevDevice device)
    {
        var parent = device.Parent;
        device.Directory = _tree.CreateDirectory(parent.Directory, device.Name);
        var bus = _tree.EnsureDirectory(SysfsPaths.MdevBus);
        _tree.CreateLink(device.Directory, SysfsNames.Subsystem, bus);
        _tree.CreateAttribute(device.Directory, SysfsNames.Uevent, SysfsAttribute.ReadWrite,
            () => UeventText(DeviceUeventVariables(device)),
            (data, _) => SynthesizeUevent(data, device.Directory.Path, MdevSubsystem, DeviceUeventVariables(device)));
        _tree.CreateAttribute(device.Directory, SysfsNames.Remove, SysfsAttribute.WriteOnly, store: (data, _) => Remove(device, data));
        var power = _tree.CreateDirectory(device.Directory, "power");
        _tree.CreateAttribute(power, "runtime_status", SysfsAttribute.ReadOnly, () => "unsupported\n");
        _tree.CreateLink(_tree.EnsureDirectory(SysfsPaths.MdevBusDevices), device.Name, device.Directory);
        _uevents.Enqueue("add", device.Directory.Path, MdevSubsystem, DeviceUeventVariables(device));
    }

    private void RemoveDeviceDirectory(MdevDevice device)
    {
        if (_tree.TryLookup(SysfsPaths.MdevBusDevices + "/" + device.Name, out var busLink))
        {
            _tree.Remove(busLink);
        }
        _tree.Remove(device.Directory);
        _uevents.Enqueue("remove", device.Directory.Path, MdevSubsystem, DeviceUeventVariables(device));
    }

    private void BindDriver(MdevDevice device)
    {
        var driver = device.Parent.Driver;
        var driverDirectory = _tree.EnsureDirectory(SysfsPaths.MdevBusDrivers + "/" + driver.Name);
        _tree.CreateLink(driverDirectory, device.Name, device.Directory);
        _tree.CreateLink(device.Directory, SysfsNames.Driver, driverDirectory);
        foreach (var attribute in driver.DeviceAttributes(device))
        {
            AddVendorAttribute(device.Directory, attribute);
        }
        _uevents.Enqueue("bind", device.Directory.Path, MdevSubsystem, DeviceUeventVariables(device), (DriverVariable, driver.Name));
    }

    private void UnbindDriver(MdevDevice device)
    {
        var driver = device.Parent.Driver;
        if (_tree.TryLookup(SysfsPaths.MdevBusDrivers + "/" + driver.Name + "/" + device.Name, out var back))
        {
            _tree.Remove(back);
        }
        driver.Remove(device);
        _uevents.Enqueue("unbind", device.Directory.Path, MdevSubsystem, DeviceUeventVariables(device), (DriverVariable, driver.Name));
    }

    // What a device's uevent file shows: its driver once probed and listed, nothing while it is added or after it is removed.
    private IEnumerable<KeyValuePair<string, string>> DeviceUeventVariables(MdevDevice device) =>
        device.IsRemoved || !_devices.ContainsKey(device.Uuid) ? [] : [new(DriverVariable, device.Parent.Driver.Name)];
}
