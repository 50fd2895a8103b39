using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class SampleDriverTests
{
    private readonly SimulatedHost _host = HostFiles.Boot("samples");

    [Fact]
    public void Mdpy_OnePoolCountedByCore_SameAvailabilityForAllTypesThenEusers()
    {
        string[] types = ["mdpy-vga", "mdpy-xga", "mdpy-hd", "mdpy-vga"];
        for (var i = 0; i < types.Length; i++)
        {
            Assert.All(new[] { "mdpy-vga", "mdpy-xga", "mdpy-hd" }, type => Assert.Equal((uint)(4 - i), _host.Available("mdpy", type)));
            Assert.Equal(Errno.None, _host.Create("mdpy", types[i], Guid.NewGuid()));
        }

        Assert.Equal(0u, _host.Available("mdpy", "mdpy-hd"));
        Assert.Equal(Errno.EUSERS, _host.Create("mdpy", "mdpy-hd", Guid.NewGuid()));
        Assert.Equal(Errno.None, _host.Remove(_host.Core.Devices.First(device => device.Parent.Name == "mdpy").Uuid));
        Assert.Equal(1u, _host.Available("mdpy", "mdpy-xga"));
    }

    [Theory]
    [InlineData("mdpy-vga", "mdpy-vga", "virtual display, 640x480 framebuffer\n", "640x480\n")]
    [InlineData("mdpy-xga", "mdpy-xga", "virtual display, 1024x768 framebuffer\n", "1024x768\n")]
    [InlineData("mdpy-hd", "mdpy-hd", "virtual display, 1920x1080 framebuffer\n", "1920x1080\n")]
    public void Mdpy_TypeAndDeviceAttributes_MatchSample(string type, string name, string description, string resolution)
    {
        var path = _host.TypePath("mdpy", type);
        Assert.Equal(name + "\n", _host.Read($"{path}/name"));
        Assert.Equal(description, _host.Read($"{path}/description"));
        Assert.Equal("vfio-pci\n", _host.Read($"{path}/device_api"));
        var uuid = Guid.NewGuid();
        _host.Create("mdpy", type, uuid);
        Assert.Equal(resolution, _host.Read($"sys/bus/mdev/devices/{MdevUuid.Format(uuid)}/vendor/resolution"));
    }

    [Fact]
    public void Mbochs_SharedMemory_LargerTypesRunOutFirst()
    {
        Assert.Equal([64u, 16u, 4u], Availability());

        Assert.Equal(Errno.None, _host.Create("mbochs", "mbochs-large", Guid.NewGuid()));
        Assert.Equal([48u, 12u, 3u], Availability());
        Assert.Equal(Errno.None, _host.Create("mbochs", "mbochs-large", Guid.NewGuid()));
        Assert.Equal(Errno.None, _host.Create("mbochs", "mbochs-large", Guid.NewGuid()));
        Assert.Equal(Errno.None, _host.Create("mbochs", "mbochs-medium", Guid.NewGuid()));
        Assert.Equal(Errno.None, _host.Create("mbochs", "mbochs-medium", Guid.NewGuid()));
        Assert.Equal([8u, 2u, 0u], Availability());

        Assert.Equal(Errno.ENOSPC, _host.Create("mbochs", "mbochs-large", Guid.NewGuid()));
        Assert.Equal(Errno.None, _host.Create("mbochs", "mbochs-small", Guid.NewGuid()));
        Assert.Equal([7u, 1u, 0u], Availability());
    }

    [Fact]
    public void Mbochs_Attributes_MatchSample()
    {
        var path = _host.TypePath("mbochs", "mbochs-medium");
        Assert.Equal("mbochs-medium\n", _host.Read($"{path}/name"));
        Assert.Equal("virtual display, 16 MB video memory\n", _host.Read($"{path}/description"));
        var uuid = Guid.NewGuid();
        _host.Create("mbochs", "mbochs-medium", uuid);
        Assert.Equal("16 MB\n", _host.Read($"sys/bus/mdev/devices/{MdevUuid.Format(uuid)}/vendor/memory"));
    }

    private uint[] Availability() =>
        [.. new[] { "mbochs-small", "mbochs-medium", "mbochs-large" }.Select(type => _host.Available("mbochs", type))];
}
