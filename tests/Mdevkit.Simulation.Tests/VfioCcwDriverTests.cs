using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class VfioCcwDriverTests
{
    private const string Subchannel = "0.0.0123";
    private const string Type = "vfio_ccw-io";

    private readonly SimulatedHost _host = HostFiles.Boot("s390");

    [Fact]
    public void Create_SecondDevice_FailsWithEusersFromCore()
    {
        Assert.Equal(1u, _host.Available(Subchannel, Type));
        var uuid = _host.CreateOk(Subchannel, Type);
        Assert.Equal(0u, _host.Available(Subchannel, Type));

        Assert.Equal(Errno.EUSERS, _host.Create(Subchannel, Type, Guid.NewGuid()));
        Assert.Equal(1u, _host.Available("0.0.0124", Type));

        Assert.Equal(Errno.None, _host.Remove(uuid));
        Assert.Equal(1u, _host.Available(Subchannel, Type));
    }

    [Fact]
    public void Create_NotOperational_FailsWithEnodevAndLeavesNoTrace()
    {
        var uuid = Guid.NewGuid();

        Assert.Equal(Errno.ENODEV, _host.Create("0.0.0200", Type, uuid));

        Assert.Equal(1u, _host.Available("0.0.0200", Type));
        Assert.False(_host.Exists(HostFiles.DevicePath(uuid)));
        Assert.False(_host.Exists($"sys/devices/css0/0.0.0200/{MdevUuid.Format(uuid)}"));
    }

    [Fact]
    public void TypeAttributes_Io_MatchKernel()
    {
        var path = _host.TypePath(Subchannel, Type);

        Assert.Equal("I/O subchannel (Non-QDIO)\n", _host.Read($"{path}/name"));
        Assert.Equal("vfio-ccw\n", _host.Read($"{path}/device_api"));
        Assert.False(_host.Exists($"{path}/description"), "vfio_ccw has no show_description");
    }

    [Fact]
    public void Repeat_Subchannels_TakeConsecutiveNumbers()
    {
        Assert.Equal(["0.0.0123", "0.0.0124", "0.0.0125", "0.0.0200", "matrix"], _host.Core.Parents.Select(parent => parent.Name));
    }
}
