using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class SimulatedHostTests
{
    private readonly SimulatedHost _host = HostFiles.Boot("samples");

    [Fact]
    public void Boot_RegistersEveryParentInMdevBusClass()
    {
        var names = _host.Tree.List((SysfsDirectory)Lookup(SysfsPaths.MdevBusClass)).Select(node => node.Name);

        Assert.Equal(["mbochs", "mdpy", "mtty"], names);
    }

    [Fact]
    public void Unplug_RemovesDevicesThenParent()
    {
        var uuid = Guid.NewGuid();
        _host.Create("mtty", "mtty-2", uuid);
        Assert.Equal(Errno.None, _host.Tree.Open($"{_host.TypePath("mtty", "mtty-1")}/create", FileAccess.Write, Caller.Root, out var staleCreate));
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;

        Assert.Equal(Errno.None, _host.Unplug("mtty"));

        Assert.Empty(_host.Core.Devices);
        Assert.False(_host.Tree.TryLookup("sys/class/mdev_bus/mtty", out _));
        Assert.False(_host.Tree.TryLookup("sys/devices/virtual/mtty/mtty", out _));
        Assert.False(_host.Tree.TryLookup($"sys/bus/mdev/devices/{MdevUuid.Format(uuid)}", out _));
        Assert.Equal(-(int)Errno.ENODEV, staleCreate!.Write(System.Text.Encoding.ASCII.GetBytes(MdevUuid.Format(Guid.NewGuid()))));
        Assert.Equal(
            ["unbind /devices/virtual/mtty/mtty/" + MdevUuid.Format(uuid), "remove /devices/virtual/mtty/mtty/" + MdevUuid.Format(uuid),
             "change /devices/virtual/mtty/mtty", "remove /devices/virtual/mtty/mtty"],
            events.Select(e => $"{e.Action} {e.DevicePath}"));
        Assert.Equal("unregistered", events[2]["MDEV_STATE"]);
    }

    [Fact]
    public void Plug_AfterUnplug_RegistersWithFreshOffer()
    {
        _host.Create("mtty", "mtty-2", Guid.NewGuid());
        _host.Unplug("mtty");
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;

        Assert.Equal(Errno.None, _host.Plug("mtty"));

        Assert.Equal(24u, _host.Available("mtty", "mtty-1"));
        Assert.Equal(["add", "change"], events.Select(e => e.Action));
        Assert.Equal("registered", events[1]["MDEV_STATE"]);
    }

    [Fact]
    public void Plug_UnknownOrPresent_Fails()
    {
        Assert.Equal(Errno.ENODEV, _host.Plug("0000:99:00.0"));
        Assert.Equal(Errno.EEXIST, _host.Plug("mtty"));
        Assert.Equal(Errno.ENODEV, _host.Unplug("0000:99:00.0"));
    }

    [Fact]
    public void Reboot_ClearsDevicesAndReannouncesParents()
    {
        var initial = _host.Offer();
        _host.Create("mtty", "mtty-2", Guid.NewGuid());
        _host.Create("mdpy", "mdpy-hd", Guid.NewGuid());
        _host.Create("mbochs", "mbochs-large", Guid.NewGuid());
        _host.Unplug("mbochs");
        var registered = new List<string>();
        _host.UeventRaised += e =>
        {
            if (e["MDEV_STATE"] == "registered")
            {
                registered.Add(e.DevicePath);
            }
        };

        _host.Reboot();

        Assert.Empty(_host.Core.Devices);
        Assert.Equal(["/devices/virtual/mdpy/mdpy", "/devices/virtual/mtty/mtty"], registered);
        Assert.Equal(initial.Where(pair => !pair.Key.StartsWith("mbochs/", StringComparison.Ordinal)), _host.Offer());
        Assert.Empty(_host.Tree.List((SysfsDirectory)Lookup(SysfsPaths.IommuGroups)));
    }

    [Fact]
    public void UeventHandler_MayCallBackIntoCore()
    {
        // udev-style consumers react to an event by acting on the host; delivery after the lock makes that safe.
        var started = Guid.NewGuid();
        _host.UeventRaised += e =>
        {
            if (e["MDEV_STATE"] == "registered" && e.DevicePath.EndsWith("/mtty", StringComparison.Ordinal))
            {
                Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", started));
            }
        };

        _host.Reboot();

        Assert.True(_host.Core.TryGetDevice(started, out _));
    }

    private SysfsNode Lookup(string path)
    {
        Assert.True(_host.Tree.TryLookup(path, out var node), path);
        return node;
    }
}
