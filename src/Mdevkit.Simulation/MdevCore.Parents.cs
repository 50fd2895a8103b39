using System.Globalization;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

public sealed partial class MdevCore
{
    /// <summary>
    /// Brings a parent device up and registers it with the mdev core (<c>mdev_register_parent</c>):
    /// its directory, the type directories, the <c>mdev_bus</c> class link, and the
    /// <c>MDEV_STATE=registered</c> change event that mdevctl's udev rule starts devices on.
    /// A driver without types only binds the device; see <see cref="IMdevDriver"/>.
    /// </summary>
    internal ParentDevice Register(ParentBlueprint blueprint) => Change(() => RegisterLocked(blueprint));

    /// <summary>
    /// Unregisters a parent and takes its device away (driver unbind plus hot-unplug): its virtual functions
    /// go first, then every child mdev, as <c>mdev_unregister_parent</c> does, then the parent's directory.
    /// </summary>
    internal void Unregister(ParentDevice parent) => Change(() => UnregisterLocked(parent));

    private ParentDevice RegisterLocked(ParentBlueprint blueprint)
    {
        if (_parents.ContainsKey(blueprint.Name))
        {
            throw new InvalidOperationException($"parent '{blueprint.Name}' is already registered");
        }
        var directory = _tree.EnsureDirectory(blueprint.DevicePath);
        var driver = blueprint.CreateDriver();
        var parent = new ParentDevice(blueprint, driver, directory, _lock);
        var subsystem = _tree.EnsureDirectory(blueprint.SubsystemPath);
        _tree.CreateLink(directory, SysfsNames.Subsystem, subsystem);
        // What udev enumerates: a bus lists its devices under devices/, a class directly.
        parent.SubsystemLink = _tree.CreateLink(IsBus(blueprint) ? _tree.EnsureDirectory(blueprint.SubsystemPath + "/devices") : subsystem, blueprint.Name, directory);
        if (blueprint.BoundDriverPath is { } boundDriver)
        {
            var driverDirectory = _tree.EnsureDirectory(boundDriver);
            _tree.CreateLink(driverDirectory, blueprint.Name, directory);
            _tree.CreateLink(directory, SysfsNames.Driver, driverDirectory);
        }
        foreach (var (name, value) in blueprint.Identity ?? [])
        {
            _tree.CreateAttribute(directory, name, SysfsAttribute.ReadOnly, () => value + "\n");
        }
        foreach (var (name, content) in blueprint.BinaryAttributes ?? [])
        {
            _tree.CreateBinaryAttribute(directory, name, SysfsAttribute.ReadOnly, content.Length, () => content);
        }
        _tree.CreateAttribute(directory, SysfsNames.Uevent, SysfsAttribute.ReadWrite,
            () => UeventText(ParentUeventVariables(blueprint)), (data, _) => SynthesizeUevent(data, blueprint.DevicePath, SubsystemName(blueprint), ParentUeventVariables(blueprint)));
        if (blueprint.HasIommuGroup)
        {
            parent.IommuGroup = _iommuGroups.Add(directory);
        }
        _parents.Add(blueprint.Name, parent);
        _uevents.Enqueue("add", blueprint.DevicePath, SubsystemName(blueprint), ParentUeventVariables(blueprint));
        AddFunctionFiles(parent);
        if (!parent.IsMdevParent)
        {
            EnqueueDriverEvent("bind", blueprint);
            return parent;
        }

        var mdevDriverDirectory = _tree.EnsureDirectory(SysfsPaths.MdevBusDrivers + "/" + driver.Name);
        _tree.EnsureDirectory(mdevDriverDirectory.Path + "/module");
        parent.TypesDirectory = _tree.CreateDirectory(directory, SysfsNames.SupportedTypes);
        foreach (var spec in driver.Types)
        {
            var type = new MdevType(parent, spec);
            parent.TypeList.Add(type);
            if (driver is not ITypeVisibilityHook visibility || visibility.IsVisible(spec))
            {
                AddTypeDirectory(type);
            }
        }
        parent.ClassLink = _tree.CreateLink(_tree.EnsureDirectory(SysfsPaths.MdevBusClass), blueprint.Name, directory);
        _uevents.Enqueue("change", blueprint.DevicePath, SubsystemName(blueprint), ParentUeventVariables(blueprint), ("MDEV_STATE", "registered"));
        EnqueueDriverEvent("bind", blueprint);
        return parent;
    }

    // The driver core announces a driver bound once its probe returned (which is where an mdev parent registered),
    // and let go before the device is deleted: udev rules match on these (DRIVER=nvidia binding an Ada VF).
    private void EnqueueDriverEvent(string action, ParentBlueprint blueprint)
    {
        if (blueprint.BoundDriverPath is not null)
        {
            _uevents.Enqueue(action, blueprint.DevicePath, SubsystemName(blueprint), ParentUeventVariables(blueprint));
        }
    }

    private bool UnregisterLocked(ParentDevice parent)
    {
        if (!_parents.Remove(parent.Name))
        {
            return false;
        }
        parent.IsUnregistering = true;
        DisableVirtualFunctions(parent);
        RemoveVfioFiles(parent);
        if (parent.ClassLink is not null)
        {
            _tree.Remove(parent.ClassLink);
        }
        if (parent.SubsystemLink is not null)
        {
            _tree.Remove(parent.SubsystemLink);
        }
        foreach (var device in parent.DeviceList.ToArray())
        {
            RemoveLocked(device);
        }
        if (parent.TypesDirectory is not null)
        {
            _tree.Remove(parent.TypesDirectory);
            _uevents.Enqueue("change", parent.Blueprint.DevicePath, SubsystemName(parent.Blueprint), ParentUeventVariables(parent.Blueprint), ("MDEV_STATE", "unregistered"));
        }
        if (parent.IommuGroup is { } group)
        {
            _iommuGroups.Release(group, parent.Directory);
        }
        if (parent.Blueprint.BoundDriverPath is { } boundDriver && _tree.TryLookup(boundDriver + "/" + parent.Name, out var back))
        {
            _tree.Remove(back);
        }
        EnqueueDriverEvent("unbind", parent.Blueprint);
        _tree.Remove(parent.Directory);
        // device_del releases the host driver before it sends the remove, so DRIVER is gone from it.
        _uevents.Enqueue("remove", parent.Blueprint.DevicePath, SubsystemName(parent.Blueprint), ParentUeventVariables(parent.Blueprint).Where(variable => variable.Key != DriverVariable));
        return true;
    }

    // What the bound driver adds besides mdev: its own attributes, SR-IOV, VFIO. Their callbacks run under
    // the core lock, so driver state shared by sibling functions needs no lock of its own.
    private void AddFunctionFiles(ParentDevice parent)
    {
        if (parent.Driver is IFunctionAttributesHook attributes)
        {
            foreach (var attribute in attributes.FunctionAttributes(parent))
            {
                AddVendorAttribute(parent.Directory, attribute with
                {
                    Show = attribute.Show is { } show ? () => Locked(() => show()) : null,
                    Store = attribute.Store is { } store ? (data, caller) => StoreLocked(store, data, caller) : null,
                });
            }
        }
        if (parent.Driver is ISriovHook sriov)
        {
            AddSriovFiles(parent, sriov);
        }
        if (parent.Driver is IVfioFunctionHook)
        {
            AddVfioFiles(parent);
        }
    }

    // A vendor attribute at its path below a device directory, making the subdirectories on the way.
    private void AddVendorAttribute(SysfsDirectory device, VendorAttribute attribute)
    {
        var slash = attribute.RelativePath.LastIndexOf('/');
        var directory = slash < 0 ? device : _tree.EnsureDirectory(device.Path + "/" + attribute.RelativePath[..slash]);
        _tree.CreateAttribute(directory, attribute.RelativePath[(slash + 1)..], attribute.Mode, attribute.Show, attribute.Store);
    }

    private T Locked<T>(Func<T> read)
    {
        lock (_lock)
        {
            return read();
        }
    }

    // The span cannot enter a lambda, so the store gets its own critical section rather than Change's.
    private Errno StoreLocked(StoreHandler store, ReadOnlySpan<byte> data, Caller caller)
    {
        try
        {
            lock (_lock)
            {
                return store(data, caller);
            }
        }
        finally
        {
            _uevents.Deliver();
        }
    }

    private void AddTypeDirectory(MdevType type)
    {
        var directory = _tree.CreateDirectory(type.Parent.TypesDirectory!, type.Id);
        var driver = type.Parent.Driver;
        _tree.CreateAttribute(directory, SysfsNames.Create, SysfsAttribute.WriteOnly, store: (data, _) => Create(type, data));
        _tree.CreateAttribute(directory, SysfsNames.DeviceApi, SysfsAttribute.ReadOnly, () => driver.DeviceApi + "\n");
        _tree.CreateAttribute(directory, SysfsNames.Name, SysfsAttribute.ReadOnly, () => type.Name + "\n");
        _tree.CreateAttribute(directory, SysfsNames.AvailableInstances, SysfsAttribute.ReadOnly,
            () => GetAvailableInstances(type).ToString(CultureInfo.InvariantCulture) + "\n");
        if (driver is IDescriptionHook describer)
        {
            _tree.CreateAttribute(directory, SysfsNames.Description, SysfsAttribute.ReadOnly, () => describer.ShowDescription(type.Spec));
        }
        type.DevicesDirectory = _tree.CreateDirectory(directory, SysfsNames.Devices);
        type.Directory = directory;
    }

    // A type with devices always stays: their mdev_type links point into its directory.
    private void RefreshTypeVisibility(ParentDevice parent)
    {
        if (parent.Driver is not ITypeVisibilityHook visibility || parent.IsUnregistering)
        {
            return;
        }
        foreach (var type in parent.TypeList)
        {
            var visible = visibility.IsVisible(type.Spec) || parent.DeviceList.Any(device => device.Type == type);
            if (visible && type.Directory is null)
            {
                AddTypeDirectory(type);
            }
            else if (!visible && type.Directory is not null)
            {
                _tree.Remove(type.Directory);
                type.Directory = null;
                type.DevicesDirectory = null;
            }
        }
    }

    private static string SubsystemName(ParentBlueprint blueprint) => Path.GetFileName(blueprint.SubsystemPath);

    // What a parent's uevent file shows (dev_uevent): its host driver, then the bus's variables.
    private static IEnumerable<KeyValuePair<string, string>> ParentUeventVariables(ParentBlueprint blueprint) =>
        (blueprint.BoundDriverPath is { } driver ? [new(DriverVariable, Path.GetFileName(driver))] : Enumerable.Empty<KeyValuePair<string, string>>())
        .Concat(blueprint.UeventProperties ?? []);

    private static string UeventText(IEnumerable<KeyValuePair<string, string>> variables) =>
        string.Concat(variables.Select(variable => $"{variable.Key}={variable.Value}\n"));

    private static bool IsBus(ParentBlueprint blueprint) => blueprint.SubsystemPath.StartsWith("sys/bus/", StringComparison.Ordinal);

    private Errno SynthesizeUevent(ReadOnlySpan<byte> data, string devicePath, string subsystem, IEnumerable<KeyValuePair<string, string>> device)
    {
        // Writing an action name to a device's uevent file makes the kernel send that event again ("udevadm trigger").
        var action = System.Text.Encoding.ASCII.GetString(data).TrimEnd('\n');
        if (action is not ("add" or "remove" or "change" or "move" or "online" or "offline" or "bind" or "unbind"))
        {
            return Errno.EINVAL;
        }
        _uevents.Enqueue(action, devicePath, subsystem, device);
        _uevents.Deliver();
        return Errno.None;
    }
}
