using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class MttyDriverTests
{
    private readonly SimulatedHost _host = HostFiles.Boot("samples");

    [Fact]
    public void Create_DualPort_TakesTwoPortsFromBothTypes()
    {
        Assert.Equal(24u, _host.Available("mtty", "mtty-1"));
        Assert.Equal(12u, _host.Available("mtty", "mtty-2"));

        Assert.Equal(Errno.None, _host.Create("mtty", "mtty-2", Guid.NewGuid()));

        Assert.Equal(22u, _host.Available("mtty", "mtty-1"));
        Assert.Equal(11u, _host.Available("mtty", "mtty-2"));
    }

    [Fact]
    public void Create_PoolExhausted_FailsWithEnospcFromDriver()
    {
        for (var i = 0; i < 23; i++)
        {
            Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", Guid.NewGuid()));
        }
        Assert.Equal(0u, _host.Available("mtty", "mtty-2"));

        Assert.Equal(Errno.ENOSPC, _host.Create("mtty", "mtty-2", Guid.NewGuid()));
        Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", Guid.NewGuid()));
        Assert.Equal(Errno.ENOSPC, _host.Create("mtty", "mtty-1", Guid.NewGuid()));
    }

    [Fact]
    public void Remove_ReturnsPortsToPool()
    {
        var uuid = Guid.NewGuid();
        Assert.Equal(Errno.None, _host.Create("mtty", "mtty-2", uuid));

        Assert.Equal(Errno.None, _host.Remove(uuid));

        Assert.Equal(24u, _host.Available("mtty", "mtty-1"));
        Assert.Equal(12u, _host.Available("mtty", "mtty-2"));
    }

    [Fact]
    public void TypeAttributes_MatchKernelSample()
    {
        var path = _host.TypePath("mtty", "mtty-1");
        Assert.Equal("Single port serial\n", _host.Read($"{path}/name"));
        Assert.Equal("vfio-pci\n", _host.Read($"{path}/device_api"));
        Assert.False(_host.Tree.TryLookup($"{path}/description", out _), "mtty has no show_description");
    }

    [Fact]
    public void Device_HasVendorAttribute()
    {
        var uuid = Guid.NewGuid();
        _host.Create("mtty", "mtty-1", uuid);

        Assert.Equal($"This is MDEV {MdevUuid.Format(uuid)}\n", _host.Read($"sys/bus/mdev/devices/{MdevUuid.Format(uuid)}/vendor/sample_mdev_dev"));
    }
}
