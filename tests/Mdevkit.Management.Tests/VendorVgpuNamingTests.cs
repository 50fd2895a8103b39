using Mdevkit.Sysfs;
using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>How mdevkit names vGPUs of NVIDIA's vendor-specific VFIO, which the kernel keeps no UUID for.</summary>
public sealed class VendorVgpuNamingTests : IDisposable
{
    private const string Vf = "0000:81:00.4";
    private const string Uuid = "11111111-2222-3333-4444-555555555555";
    private readonly TempRoot _root = new(nameof(VendorVgpuNamingTests));
    private readonly KernelDevices _kernel;

    public VendorVgpuNamingTests()
    {
        _root.File($"sys/devices/pci0000:00/{Vf}/nvidia/current_vgpu_type", "1155\n");
        _root.File($"sys/devices/pci0000:00/{Vf}/nvidia/creatable_vgpu_types", "ID    : vGPU Name\n");
        _root.Link($"sys/bus/pci/devices/{Vf}", $"../../../devices/pci0000:00/{Vf}");
        _kernel = new KernelDevices(new MdevctlEnvironment(_root.Path), vendorVfio: true);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void RecordOfTheTypeThatRuns_NamesTheVgpu()
    {
        _root.File($"run/mdevkit/vgpus/{Vf}", $"{Uuid} 1155\n");

        Assert.Equal([new ActiveDevice(Guid.Parse(Uuid), Vf, "nvidia-1155")], _kernel.Active());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(Uuid + " 1150\n")]
    [InlineData("not a record")]
    public void NoRecordOfThatType_TheVgpuIsNamedByAVersion5UuidOfItsVf(string? record)
    {
        if (record is not null)
        {
            _root.File($"run/mdevkit/vgpus/{Vf}", record);
        }

        var device = Assert.Single(_kernel.Active());

        Assert.Equal(new ActiveDevice(device.Uuid, Vf, "nvidia-1155"), device);
        Assert.Equal(5, device.Uuid.Version);
        Assert.Equal(device.Uuid, Assert.Single(new KernelDevices(new MdevctlEnvironment(_root.Path), vendorVfio: true).Active()).Uuid);
    }

    [Fact]
    public void UnderTheMdevctlName_NothingIsSeen()
    {
        var kernel = new KernelDevices(new MdevctlEnvironment(_root.Path), vendorVfio: false);

        Assert.Empty(kernel.Active());
        Assert.Empty(kernel.ParentNames());
        Assert.False(kernel.EnableVirtualFunctionsFor(Vf));
    }
}
