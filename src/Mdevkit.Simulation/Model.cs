using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// A parent device as the hardware offers it: where it sits in sysfs, which host driver binds it, and
/// how to make the vendor driver state for one registration (fresh on every plug and boot).
/// </summary>
/// <param name="Name">The device name, e.g. <c>0000:00:02.0</c>, <c>mtty</c>, <c>0.0.0123</c>, <c>matrix</c>.</param>
/// <param name="DevicePath">Root-relative sysfs path of the device directory.</param>
/// <param name="DriverString">The kernel's <c>dev_driver_string()</c>, the prefix of every type id.</param>
/// <param name="BoundDriverPath">Root-relative path of the host driver bound to the device, if any.</param>
/// <param name="SubsystemPath">Root-relative path of the device's bus or class.</param>
/// <param name="HasIommuGroup">Whether the device itself sits in an IOMMU group (physical PCI functions).</param>
/// <param name="CreateDriver">Makes the vendor driver's state for one registration.</param>
/// <param name="Identity">Read-only attributes the hardware shows in its device directory (a PCI function's <c>vendor</c>, <c>device</c>, <c>class</c>).</param>
public sealed record ParentBlueprint(
    string Name,
    string DevicePath,
    string DriverString,
    string? BoundDriverPath,
    string SubsystemPath,
    bool HasIommuGroup,
    Func<IMdevDriver> CreateDriver,
    IReadOnlyList<KeyValuePair<string, string>>? Identity = null)
{
    /// <summary>The bus's own variables in the device's <c>uevent</c> (PCI: <c>PCI_CLASS</c>, <c>PCI_ID</c>, <c>PCI_SLOT_NAME</c>), after <c>DRIVER</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? UeventProperties { get; init; }

    /// <summary>Read-only binary attributes the hardware shows in its device directory (a PCI function's <c>config</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>>? BinaryAttributes { get; init; }

    /// <summary>What the vendor declares about its devices' lifecycle: peer links, hotplug.</summary>
    public ParentLifecycle Lifecycle { get; init; } = ParentLifecycle.Default;
}

/// <summary>
/// A device the core brought up: a registered mdev parent (the kernel's <c>struct mdev_parent</c>), or a PCI
/// function its driver only binds (<see cref="IsMdevParent"/> false).
/// </summary>
public sealed class ParentDevice
{
    // The mdev core's lock, which guards the device list.
    private readonly Lock _coreLock;

    internal ParentDevice(ParentBlueprint blueprint, IMdevDriver driver, SysfsDirectory directory, Lock coreLock)
    {
        _coreLock = coreLock;
        Blueprint = blueprint;
        Driver = driver;
        Directory = directory;
        AvailableInstances = driver.MaxInstances;
        FreePeerLinks = blueprint.Lifecycle.PeerLinks;
    }

    /// <summary>The device name, as <c>sys/class/mdev_bus</c> lists it.</summary>
    public string Name => Blueprint.Name;

    /// <summary>What the hardware offers.</summary>
    public ParentBlueprint Blueprint { get; }

    /// <summary>The vendor driver's state for this registration.</summary>
    public IMdevDriver Driver { get; }

    /// <summary>The device directory.</summary>
    public SysfsDirectory Directory { get; }

    /// <summary>The types in registration order.</summary>
    public IReadOnlyList<MdevType> Types => TypeList;

    /// <summary>The devices on this parent, in creation order.</summary>
    public IReadOnlyList<MdevDevice> Devices
    {
        get
        {
            lock (_coreLock)
            {
                return [.. DeviceList];
            }
        }
    }

    /// <summary>The core's instance counter (used only for drivers without an availability hook).</summary>
    public uint AvailableInstances { get; internal set; }

    // Peer links not in use; null when the vendor sets up none. Guarded by the core lock.
    internal int? FreePeerLinks { get; set; }

    /// <summary>Set while the parent unregisters; creates and removes then fail with ENODEV.</summary>
    public bool IsUnregistering { get; internal set; }

    internal List<MdevType> TypeList { get; } = [];

    // Guarded by the core lock.
    internal List<MdevDevice> DeviceList { get; } = [];

    internal SysfsDirectory? TypesDirectory { get; set; }

    internal SysfsLink? ClassLink { get; set; }

    // The entry under the bus's devices/ or in the class directory.
    internal SysfsLink? SubsystemLink { get; set; }

    internal int? IommuGroup { get; set; }

    /// <summary>Whether the driver registered the device with the mdev core; a device it only binds has no types.</summary>
    public bool IsMdevParent => Driver.Types.Count > 0;

    /// <summary>The physical function of a virtual function (its <c>physfn</c>); null for other devices.</summary>
    public ParentDevice? PhysicalFunction { get; internal set; }

    /// <summary>A physical function's enabled virtual functions, in index order. Guarded by the core lock.</summary>
    internal List<ParentDevice> VirtualFunctions { get; } = [];

    /// <summary>Whether a process holds the device's VFIO nodes (<see cref="IVfioFunctionHook"/>); ask under the core lock.</summary>
    public bool IsHeld => VfioUse?.HolderPid is not null;

    // The use of a device the driver registered with VFIO itself, and its cdev number. Guarded by the core lock.
    internal DeviceUse? VfioUse { get; set; }

    internal int? VfioNumber { get; set; }
}

/// <summary>A type a parent offers, and its directory under <c>mdev_supported_types</c>.</summary>
public sealed class MdevType
{
    internal MdevType(ParentDevice parent, MdevTypeSpec spec)
    {
        Parent = parent;
        Spec = spec;
        Id = parent.Blueprint.DriverString + "-" + spec.SysfsName;
    }

    /// <summary>The type id, e.g. <c>i915-GVTg_V5_4</c>.</summary>
    public string Id { get; }

    /// <summary>What the <c>name</c> file shows.</summary>
    public string Name => Spec.PrettyName ?? Spec.SysfsName;

    /// <summary>The parent offering the type.</summary>
    public ParentDevice Parent { get; }

    /// <summary>The driver's declaration.</summary>
    public MdevTypeSpec Spec { get; }

    /// <summary>The type directory; null while the driver hides the type.</summary>
    public SysfsDirectory? Directory { get; internal set; }

    internal SysfsDirectory? DevicesDirectory { get; set; }
}

/// <summary>A mediated device (the kernel's <c>struct mdev_device</c>).</summary>
public sealed class MdevDevice
{
    internal MdevDevice(Guid uuid, MdevType type)
    {
        Uuid = uuid;
        Type = type;
    }

    /// <summary>The device's UUID.</summary>
    public Guid Uuid { get; }

    /// <summary>The directory name: the lowercase UUID.</summary>
    public string Name => MdevUuid.Format(Uuid);

    /// <summary>The device's type.</summary>
    public MdevType Type { get; }

    /// <summary>The parent the device was created on.</summary>
    public ParentDevice Parent => Type.Parent;

    /// <summary>The device's own IOMMU group number.</summary>
    public int IommuGroup { get; internal set; } = -1;

    /// <summary>The device directory.</summary>
    public SysfsDirectory Directory { get; internal set; } = null!;

    /// <summary>Set once removal began; later removes fail with ENODEV.</summary>
    public bool IsRemoved { get; internal set; }

    /// <summary>Set while a remove waits for the holder to release the device; opens fail with ENODEV meanwhile. Guarded by the core lock.</summary>
    public bool IsRemoving { get; internal set; }

    // Who holds the device and what it holds. Guarded by the core lock.
    internal DeviceUse Use { get; } = new();

    /// <summary>The group node <c>dev/vfio/N</c>.</summary>
    public DeviceNode? Node { get; internal set; }

    /// <summary>Slot for the vendor driver's per-device state (the kernel's drvdata).</summary>
    public object? DriverData { get; set; }
}
