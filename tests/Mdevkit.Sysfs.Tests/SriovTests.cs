using Mdevkit.TestSupport;

namespace Mdevkit.Sysfs.Tests;

/// <summary>SR-IOV and NVIDIA's vendor-specific VFIO read and written on a fixture root laid out as the kernel links it.</summary>
public sealed class SriovTests : IDisposable
{
    private const string Pf = "0000:81:00.0";
    private readonly TempRoot _root = new(nameof(SriovTests));
    private readonly SysfsRoot _sysfs;

    public SriovTests()
    {
        _root.File($"sys/devices/pci0000:00/{Pf}/sriov_totalvfs", "32\n");
        _root.File($"sys/devices/pci0000:00/{Pf}/sriov_numvfs", "2");
        _root.File($"sys/devices/pci0000:00/{Pf}/sriov_offset", "4\n");
        _root.File($"sys/devices/pci0000:00/{Pf}/sriov_stride", "1\n");
        _root.Link($"sys/bus/pci/devices/{Pf}", $"../../../devices/pci0000:00/{Pf}");
        // Two functions, linked out of index order, as readdir may list them.
        foreach (var (index, vf) in new[] { (1, "0000:81:00.5"), (0, "0000:81:00.4") })
        {
            _root.File($"sys/devices/pci0000:00/{vf}/nvidia/current_vgpu_type", "0\n");
            _root.File($"sys/devices/pci0000:00/{vf}/nvidia/creatable_vgpu_types", "ID    : vGPU Name\n1155  : NVIDIA L40S-24Q\n1165  : NVIDIA L40S-24A\n");
            _root.Link($"sys/devices/pci0000:00/{vf}/physfn", $"../{Pf}");
            _root.Link($"sys/devices/pci0000:00/{Pf}/virtfn{index}", $"../{vf}");
            _root.Link($"sys/bus/pci/devices/{vf}", $"../../../devices/pci0000:00/{vf}");
        }
        _sysfs = new SysfsRoot(_root.Path);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void PciIdentity_ReadsHexIds_NullWithoutThem_EinvalForOtherText()
    {
        _root.File($"sys/devices/pci0000:00/{Pf}/vendor", "0x10de\n");
        _root.File($"sys/devices/pci0000:00/{Pf}/device", "0x26b9\n");
        _root.File($"sys/devices/pci0000:00/{Pf}/class", "0x030200\n");
        _root.File("sys/devices/pci0000:00/0000:81:00.4/vendor", "10de\n");
        _root.File("sys/devices/pci0000:00/0000:81:00.4/device", "0x26b9\n");
        _root.File("sys/devices/pci0000:00/0000:81:00.4/class", "0x030200\n");

        Assert.Equal(new PciIdentity(0x10de, 0x26b9, 0x030200), _sysfs.GetPciIdentity(Pf));
        Assert.Null(_sysfs.GetPciIdentity("0000:81:00.5"));
        Assert.Equal(Errno.EINVAL, Assert.Throws<SysfsException>(() => _sysfs.GetPciIdentity("0000:81:00.4")).Errno);
    }

    [Fact]
    public void PhysicalFunction_ReadsCountsAndVirtualFunctionsInIndexOrder()
    {
        Assert.Equal(["0000:81:00.0", "0000:81:00.4", "0000:81:00.5"], _sysfs.GetPciFunctionNames());
        Assert.Equal(32, _sysfs.GetTotalVfs(Pf));
        Assert.Equal(2, _sysfs.GetNumVfs(Pf));
        Assert.Equal(["0000:81:00.4", "0000:81:00.5"], _sysfs.GetVirtualFunctions(Pf));
        Assert.False(_sysfs.HasVendorVgpu(Pf));
    }

    [Fact]
    public void Layout_GivesTheAddressesVirtualFunctionsWillHave_AcrossSlots()
    {
        var layout = _sysfs.GetSriovLayout(Pf)!;

        Assert.Equal((32, 2, 4, 1), (layout.TotalVfs, layout.NumVfs, layout.Offset, layout.Stride));
        Assert.Equal(["0000:81:00.4", "0000:81:01.0", "0000:81:04.3"], new[] { 0, 4, 31 }.Select(index => layout.VirtualFunction(index).ToString()));
        Assert.Null(_sysfs.GetSriovLayout("0000:81:00.4"));
        Assert.Null(_sysfs.GetSriovLayout("not-pci"));
    }

    [Fact]
    public void VirtualFunction_KnowsItsPhysicalFunction_AndHasNoSriovOfItsOwn()
    {
        Assert.Equal(Pf, _sysfs.GetPhysicalFunction("0000:81:00.4"));
        Assert.Null(_sysfs.GetPhysicalFunction(Pf));
        Assert.Null(_sysfs.GetTotalVfs("0000:81:00.4"));
        Assert.Empty(_sysfs.GetVirtualFunctions("0000:81:00.4"));
        Assert.True(_sysfs.HasVendorVgpu("0000:81:00.4"));
    }

    [Fact]
    public void VendorVgpu_ReadsCreatableTypesAndCurrentType_AndWritesTheId()
    {
        Assert.Equal([new VgpuTypeInfo(1155, "NVIDIA L40S-24Q"), new VgpuTypeInfo(1165, "NVIDIA L40S-24A")], _sysfs.GetCreatableVgpuTypes("0000:81:00.4"));
        Assert.Equal(0, _sysfs.GetCurrentVgpuType("0000:81:00.4"));

        _sysfs.SetCurrentVgpuType("0000:81:00.4", 1155);
        _sysfs.SetNumVfs(Pf, 0);

        Assert.Equal("1155", File.ReadAllText(_root.Join("sys/devices/pci0000:00/0000:81:00.4/nvidia/current_vgpu_type")));
        Assert.Equal("0", File.ReadAllText(_root.Join($"sys/devices/pci0000:00/{Pf}/sriov_numvfs")));
    }

    [Fact]
    public void MissingAttributes_AreEnoent_AndNamesLeavingTheBus_Einval()
    {
        Assert.Equal(Errno.ENOENT, Assert.Throws<SysfsException>(() => _sysfs.GetNumVfs("0000:81:00.4")).Errno);
        Assert.Equal(Errno.ENOENT, Assert.Throws<SysfsException>(() => _sysfs.SetCurrentVgpuType(Pf, 1155)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<SysfsException>(() => _sysfs.GetCreatableVgpuTypes("../x")).Errno);
        Assert.False(_sysfs.HasVendorVgpu(".."));
    }

    [Fact]
    public void NumberThatIsNoNumber_IsEinval_NamingTheFile()
    {
        _root.File($"sys/devices/pci0000:00/{Pf}/sriov_numvfs", "many\n");

        var error = Assert.Throws<SysfsException>(() => _sysfs.GetNumVfs(Pf));

        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.EndsWith("/sriov_numvfs", error.Path, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", new int[0])]
    [InlineData("ID    : vGPU Name\n", new int[0])]
    [InlineData("ID : vGPU Name\n\n1414 : NVIDIA H200X-1-18C\n1428 : NVIDIA H200X-141C\n", new[] { 1414, 1428 })]
    public void ParseCreatable_HeaderThenIdColonName(string text, int[] ids)
    {
        Assert.Equal(ids, SysfsRoot.ParseCreatableVgpuTypes(text, "f").Select(type => type.Id));
    }

    [Theory]
    [InlineData("1155 : NVIDIA L40S-24Q\n", "f:1")]
    [InlineData("ID : vGPU Name\n1155 NVIDIA L40S-24Q\n", "f:2")]
    [InlineData("ID : vGPU Name\n\nx : NVIDIA L40S-24Q\n", "f:3")]
    [InlineData("ID : vGPU Name\n1155 :\n", "f:2")]
    [InlineData("ID : vGPU Name\n0 : none\n", "f:2")]
    public void ParseCreatable_BadLine_IsEinvalNamingTheLine(string text, string where)
    {
        var error = Assert.Throws<SysfsException>(() => SysfsRoot.ParseCreatableVgpuTypes(text, "f"));

        Assert.Equal((Errno.EINVAL, where), (error.Errno, error.Path));
    }
}
