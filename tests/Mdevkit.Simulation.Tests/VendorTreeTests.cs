using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>The sysfs layout of the vendor drivers' parents and devices on the default host.</summary>
public sealed class VendorTreeTests
{
    private static readonly Guid s_uuid = Guid.Parse("c60cc60c-c60c-c60c-c60c-c60cc60cc60c");

    // The PCI parents register first and take IOMMU groups 0 (00:02.0), 1 (3e:00.0) and 2 (3f:00.0).
    private readonly SimulatedHost _host = HostFiles.Boot("default");

    [Theory]
    [InlineData("sys/class/mdev_bus/0000:3e:00.0", "../../devices/pci0000:00/0000:3e:00.0")]
    [InlineData("sys/devices/pci0000:00/0000:3e:00.0/driver", "../../../bus/pci/drivers/nvidia")]
    [InlineData("sys/devices/pci0000:00/0000:3e:00.0/subsystem", "../../../bus/pci")]
    [InlineData("sys/devices/pci0000:00/0000:3e:00.0/iommu_group", "../../../kernel/iommu_groups/1")]
    [InlineData("sys/bus/pci/drivers/nvidia/0000:3f:00.0", "../../../../devices/pci0000:00/0000:3f:00.0")]
    [InlineData("sys/kernel/iommu_groups/2/devices/0000:3f:00.0", "../../../../devices/pci0000:00/0000:3f:00.0")]
    [InlineData("sys/class/mdev_bus/0000:00:02.0", "../../devices/pci0000:00/0000:00:02.0")]
    [InlineData("sys/devices/pci0000:00/0000:00:02.0/driver", "../../../bus/pci/drivers/i915")]
    [InlineData("sys/devices/pci0000:00/0000:00:02.0/iommu_group", "../../../kernel/iommu_groups/0")]
    [InlineData("sys/class/mdev_bus/0.0.0124", "../../devices/css0/0.0.0124")]
    [InlineData("sys/devices/css0/0.0.0123/driver", "../../../bus/css/drivers/vfio_ccw")]
    [InlineData("sys/devices/css0/0.0.0123/subsystem", "../../../bus/css")]
    [InlineData("sys/bus/css/drivers/vfio_ccw/0.0.0124", "../../../../devices/css0/0.0.0124")]
    [InlineData("sys/class/mdev_bus/matrix", "../../devices/vfio_ap/matrix")]
    [InlineData("sys/devices/vfio_ap/matrix/driver", "../../../bus/matrix/drivers/vfio_ap")]
    [InlineData("sys/devices/vfio_ap/matrix/subsystem", "../../../bus/matrix")]
    public void ParentLink_VendorParent_PointsWhereKernelDoes(string link, string target)
    {
        Assert.Equal(target, _host.LinkText(link));
    }

    [Theory]
    [InlineData("sys/devices/css0/0.0.0123")]
    [InlineData("sys/devices/vfio_ap/matrix")]
    public void IommuGroup_NonPciParent_IsAbsent(string parent)
    {
        Assert.True(_host.Exists(parent));
        Assert.False(_host.Exists($"{parent}/iommu_group"));
    }

    [Theory]
    [InlineData("0000:3e:00.0", "nvidia-11", "sys/devices/pci0000:00/0000:3e:00.0")]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_4", "sys/devices/pci0000:00/0000:00:02.0")]
    [InlineData("0.0.0124", "vfio_ccw-io", "sys/devices/css0/0.0.0124")]
    [InlineData("matrix", "vfio_ap-passthrough", "sys/devices/vfio_ap/matrix")]
    public void DeviceDirectory_VendorParent_IsChildOfParent(string parent, string type, string parentPath)
    {
        Create(parent, type);
        var directory = $"{parentPath}/{MdevUuid.Format(s_uuid)}";

        Assert.IsType<SysfsDirectory>(_host.Node(directory));
        Assert.Equal($"../../../{directory["sys/".Length..]}", _host.LinkText(HostFiles.DevicePath(s_uuid)));
        Assert.Equal($"../../../{MdevUuid.Format(s_uuid)}", _host.LinkText($"{_host.TypePath(parent, type)}/devices/{MdevUuid.Format(s_uuid)}"));
    }

    [Theory]
    [InlineData("0000:3e:00.0", "nvidia-11", "iommu_group", "../../../../kernel/iommu_groups/3")]
    [InlineData("0000:3e:00.0", "nvidia-11", "driver", "../../../../bus/mdev/drivers/nvidia-vgpu-vfio")]
    [InlineData("0000:3e:00.0", "nvidia-11", "subsystem", "../../../../bus/mdev")]
    [InlineData("0000:3e:00.0", "nvidia-11", "mdev_type", "../mdev_supported_types/nvidia-11")]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_4", "iommu_group", "../../../../kernel/iommu_groups/3")]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_4", "driver", "../../../../bus/mdev/drivers/intel_vgpu_mdev")]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_4", "mdev_type", "../mdev_supported_types/i915-GVTg_V5_4")]
    [InlineData("0.0.0123", "vfio_ccw-io", "iommu_group", "../../../../kernel/iommu_groups/3")]
    [InlineData("0.0.0123", "vfio_ccw-io", "driver", "../../../../bus/mdev/drivers/vfio_ccw_mdev")]
    [InlineData("0.0.0123", "vfio_ccw-io", "mdev_type", "../mdev_supported_types/vfio_ccw-io")]
    [InlineData("matrix", "vfio_ap-passthrough", "iommu_group", "../../../../kernel/iommu_groups/3")]
    [InlineData("matrix", "vfio_ap-passthrough", "driver", "../../../../bus/mdev/drivers/vfio_ap_mdev")]
    [InlineData("matrix", "vfio_ap-passthrough", "subsystem", "../../../../bus/mdev")]
    [InlineData("matrix", "vfio_ap-passthrough", "mdev_type", "../mdev_supported_types/vfio_ap-passthrough")]
    public void DeviceLink_VendorDevice_PointsWhereKernelDoes(string parent, string type, string link, string target)
    {
        Assert.Equal(target, _host.LinkText($"{Create(parent, type)}/{link}"));
    }

    [Theory]
    [InlineData("0000:3e:00.0", "nvidia-11", "remove", SysfsAttribute.WriteOnly)]
    [InlineData("0000:3e:00.0", "nvidia-11", "uevent", SysfsAttribute.ReadWrite)]
    [InlineData("0000:3e:00.0", "nvidia-11", "nvidia", SysfsDirectory.DirectoryMode)]
    [InlineData("0000:3e:00.0", "nvidia-11", "nvidia/vgpu_params", SysfsAttribute.ReadWrite)]
    [InlineData("0000:3e:00.0", "nvidia-11", "iommu_group", SysfsLink.LinkMode)]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_4", "intel_vgpu", SysfsDirectory.DirectoryMode)]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_4", "intel_vgpu/vgpu_id", SysfsAttribute.ReadOnly)]
    [InlineData("0.0.0123", "vfio_ccw-io", "remove", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "assign_adapter", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "unassign_adapter", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "assign_domain", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "unassign_domain", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "assign_control_domain", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "unassign_control_domain", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "matrix", SysfsAttribute.ReadOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "control_domains", SysfsAttribute.ReadOnly)]
    [InlineData("0000:3e:00.0", "nvidia-238", "mdev_type/create", SysfsAttribute.WriteOnly)]
    [InlineData("0000:3e:00.0", "nvidia-238", "mdev_type/available_instances", SysfsAttribute.ReadOnly)]
    [InlineData("0000:3e:00.0", "nvidia-238", "mdev_type/description", SysfsAttribute.ReadOnly)]
    [InlineData("0000:3f:00.0", "nvidia-11", "mdev_type/name", SysfsAttribute.ReadOnly)]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_1", "mdev_type/create", SysfsAttribute.WriteOnly)]
    [InlineData("0000:00:02.0", "i915-GVTg_V5_1", "mdev_type/description", SysfsAttribute.ReadOnly)]
    [InlineData("0.0.0124", "vfio_ccw-io", "mdev_type/create", SysfsAttribute.WriteOnly)]
    [InlineData("0.0.0124", "vfio_ccw-io", "mdev_type/device_api", SysfsAttribute.ReadOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "mdev_type/create", SysfsAttribute.WriteOnly)]
    [InlineData("matrix", "vfio_ap-passthrough", "mdev_type/devices", SysfsDirectory.DirectoryMode)]
    public void Entry_VendorDeviceAndItsType_HasKernelMode(string parent, string type, string entry, UnixFileMode mode)
    {
        Assert.Equal(mode, _host.Node($"{Create(parent, type)}/{entry}").Mode);
    }

    [Fact]
    public void Devices_OnEveryVendorParent_EachGetTheirOwnGroup()
    {
        string[] devices =
        [
            Create("0000:3e:00.0", "nvidia-11", Guid.NewGuid()),
            Create("0000:3f:00.0", "nvidia-11", Guid.NewGuid()),
            Create("0000:00:02.0", "i915-GVTg_V5_8", Guid.NewGuid()),
            Create("0.0.0123", "vfio_ccw-io", Guid.NewGuid()),
            Create("matrix", "vfio_ap-passthrough", Guid.NewGuid()),
        ];

        Assert.Equal(
            ["3", "4", "5", "6", "7"],
            devices.Select(device => _host.LinkText($"{device}/iommu_group")["../../../../kernel/iommu_groups/".Length..]));
    }

    // Creates a device and returns its directory, reached through the mdev bus.
    private string Create(string parent, string type, Guid? uuid = null)
    {
        var id = uuid ?? s_uuid;
        Assert.Equal(Errno.None, _host.Create(parent, type, id));
        return HostFiles.DevicePath(id);
    }
}
