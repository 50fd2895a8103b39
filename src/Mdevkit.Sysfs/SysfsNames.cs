namespace Mdevkit.Sysfs;

/// <summary>
/// The file and directory names of the mdev sysfs ABI, written once so that no other code spells them.
/// </summary>
public static class SysfsNames
{
    /// <summary>Directory of a parent device that holds one directory per supported type.</summary>
    public const string SupportedTypes = "mdev_supported_types";
    /// <summary>Write-only (0200) type attribute: writing a UUID creates a device.</summary>
    public const string Create = "create";
    /// <summary>Read-only type attribute: the type's pretty name.</summary>
    public const string Name = "name";
    /// <summary>Read-only type attribute, present only when the vendor driver describes its types.</summary>
    public const string Description = "description";
    /// <summary>Read-only type attribute: how many more devices of this type can be created now.</summary>
    public const string AvailableInstances = "available_instances";
    /// <summary>Read-only type attribute: the VFIO device API (<c>vfio-pci</c>, <c>vfio-ccw</c>, <c>vfio-ap</c>).</summary>
    public const string DeviceApi = "device_api";
    /// <summary>Directory of a type holding one link per device of that type.</summary>
    public const string Devices = "devices";
    /// <summary>Write-only (0200) device attribute: writing a non-zero number removes the device.</summary>
    public const string Remove = "remove";
    /// <summary>Device link to its type directory.</summary>
    public const string MdevType = "mdev_type";
    /// <summary>Device link to its IOMMU group.</summary>
    public const string IommuGroup = "iommu_group";
    /// <summary>Device link to the driver bound to it.</summary>
    public const string Driver = "driver";
    /// <summary>Device link to its bus or class.</summary>
    public const string Subsystem = "subsystem";
    /// <summary>Read-only PCI function attribute: the vendor id, e.g. <c>0x10de</c>.</summary>
    public const string PciVendor = "vendor";
    /// <summary>Read-only PCI function attribute: the device (product) id, e.g. <c>0x13f2</c>.</summary>
    public const string PciDevice = "device";
    /// <summary>Read-only PCI function attribute: the class code, e.g. <c>0x030000</c>.</summary>
    public const string PciClass = "class";
    /// <summary>Binary PCI function attribute: its configuration space (256 bytes for a conventional function).</summary>
    public const string PciConfig = "config";
    /// <summary>Read-only attribute of a physical device: its NUMA node, <c>-1</c> when it has none.</summary>
    public const string NumaNode = "numa_node";
    /// <summary>Read-write (0644) file of every device: shows its uevent variables, a write synthesizes an event.</summary>
    public const string Uevent = "uevent";
    /// <summary>Read-only attribute of an SR-IOV physical function: how many virtual functions it can have.</summary>
    public const string SriovTotalVfs = "sriov_totalvfs";
    /// <summary>Read-write attribute of an SR-IOV physical function: how many virtual functions are enabled; writing enables or disables them.</summary>
    public const string SriovNumVfs = "sriov_numvfs";
    /// <summary>Read-only attribute of an SR-IOV physical function: the routing id offset of its first virtual function.</summary>
    public const string SriovOffset = "sriov_offset";
    /// <summary>Read-only attribute of an SR-IOV physical function: the routing id distance between its virtual functions.</summary>
    public const string SriovStride = "sriov_stride";
    /// <summary>Link of a virtual function to its physical function.</summary>
    public const string PhysFn = "physfn";
    /// <summary>Prefix of a physical function's links to its virtual functions, <c>virtfn0</c>, <c>virtfn1</c>….</summary>
    public const string VirtFnPrefix = "virtfn";
    /// <summary>Read-only attribute of a virtual function of NVIDIA's vendor-specific VFIO: the vGPU types it could take now.</summary>
    public const string NvidiaCreatableVgpuTypes = "nvidia/creatable_vgpu_types";
    /// <summary>Read-write attribute of the same virtual function: its vGPU's type id, <c>0</c> for none; writing an id creates, <c>0</c> destroys.</summary>
    public const string NvidiaCurrentVgpuType = "nvidia/current_vgpu_type";
    /// <summary>Directory of a device's VFIO character devices (<c>vfio-dev/vfioN</c>), where a vendor-specific VFIO vGPU appears.</summary>
    public const string VfioDevClass = "vfio-dev";
}

/// <summary>Root-relative paths of the directories mdev consumers scan (no leading slash, so they join onto any root).</summary>
public static class SysfsPaths
{
    /// <summary>Top of sysfs.</summary>
    public const string Sys = "sys";
    /// <summary>Where every device lives.</summary>
    public const string Devices = "sys/devices";
    /// <summary>One link per PCI function, named by its address.</summary>
    public const string PciDevices = "sys/bus/pci/devices";
    /// <summary>One link per registered mdev parent, named after the parent device.</summary>
    public const string MdevBusClass = "sys/class/mdev_bus";
    /// <summary>The mdev bus.</summary>
    public const string MdevBus = "sys/bus/mdev";
    /// <summary>One link per mdev, named by its UUID.</summary>
    public const string MdevBusDevices = "sys/bus/mdev/devices";
    /// <summary>One directory per mdev driver.</summary>
    public const string MdevBusDrivers = "sys/bus/mdev/drivers";
    /// <summary>One directory per IOMMU group, each with a <c>devices/</c> directory of links.</summary>
    public const string IommuGroups = "sys/kernel/iommu_groups";
    /// <summary>Top of the device nodes.</summary>
    public const string Dev = "dev";
    /// <summary>One VFIO group node per IOMMU group, named by its number, which a VMM opens to use the devices in it.</summary>
    public const string VfioGroups = "dev/vfio";
    /// <summary>One class device per device VFIO registers (<c>vfioN</c>), leading to the device it belongs to.</summary>
    public const string VfioDevClass = "sys/class/" + SysfsNames.VfioDevClass;
}
