using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>What a simulated PCI parent shows besides its types: configuration space, NUMA node, and uevents with its uevent file's variables.</summary>
public sealed class PciFunctionTests
{
    private const string Gpu = "sys/devices/pci0000:00/0000:00:02.0";
    private readonly SimulatedHost _host = HostFiles.Boot("gvt");

    [Fact]
    public void Config_Is256BytesAgreeingWithTheIdAttributes_WithHeaderType0AndNoCapabilities()
    {
        var config = ReadBytes($"{Gpu}/config");

        Assert.Equal(256, config.Length);
        Assert.Equal("0x8086\n", _host.Read($"{Gpu}/vendor"));
        Assert.Equal([0x86, 0x80], config[0..2]);
        Assert.Equal("0x3e92\n", _host.Read($"{Gpu}/device"));
        Assert.Equal([0x92, 0x3e], config[2..4]);
        Assert.Equal("0x030000\n", _host.Read($"{Gpu}/class"));
        Assert.Equal([0x00, 0x00, 0x03], config[9..12]);
        Assert.Contains("PCI_ID=8086:3E92\n", _host.Read($"{Gpu}/uevent"), StringComparison.Ordinal);
        // Status bit 4 (capability list) clear, header type 0, capability pointer 0.
        Assert.Equal(0, config[6] & 0x10);
        Assert.Equal(0, config[0x0e]);
        Assert.Equal(0, config[0x34]);
        Assert.Equal("-1\n", _host.Read($"{Gpu}/numa_node"));
        Assert.Equal(SysfsAttribute.ReadOnly, _host.Node($"{Gpu}/config").Mode);
    }

    [Fact]
    public void EveryEvent_CarriesTheUeventFileVariables_ButRemoveNoLongerItsDriver()
    {
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;
        var file = _host.Read($"{Gpu}/uevent");

        Assert.Equal(Errno.None, _host.Unplug("0000:00:02.0"));
        Assert.Equal(Errno.None, _host.Plug("0000:00:02.0"));

        var parent = events.Where(e => e.DevicePath == "/devices/pci0000:00/0000:00:02.0").ToList();
        // The driver lets go (unregistering from the mdev core, then unbind) before the device goes; it binds after
        // its probe registered the parent again.
        Assert.Equal(["change", "unbind", "remove", "add", "change", "bind"], parent.Select(e => e.Action));
        Assert.All(parent.Where(e => e.Action != "remove"), e => Assert.Equal(file, Variables(e)));
        Assert.Equal(file.Replace("DRIVER=i915\n", "", StringComparison.Ordinal), Variables(parent[2]));
    }

    [Fact]
    public void MdevEvents_CarryItsDriverOnceProbed()
    {
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;

        var uuid = _host.CreateOk("0000:00:02.0", "i915-GVTg_V5_4");
        Assert.Equal(Errno.None, _host.Write($"{HostFiles.DevicePath(uuid)}/uevent", "change"));

        Assert.Equal(["add", "bind", "change"], events.Select(e => e.Action));
        Assert.Null(events[0]["DRIVER"]);
        Assert.Equal("DRIVER=intel_vgpu_mdev\n", _host.Read($"{HostFiles.DevicePath(uuid)}/uevent"));
        Assert.Equal("intel_vgpu_mdev", events[2]["DRIVER"]);
    }

    // The variables an event has beyond ACTION, DEVPATH, SUBSYSTEM, SEQNUM and its own (MDEV_STATE), as a uevent file shows them.
    private static string Variables(Uevent uevent) => string.Concat(uevent.Environment
        .Where(pair => pair.Key is not ("ACTION" or "DEVPATH" or "SUBSYSTEM" or "SEQNUM" or "MDEV_STATE"))
        .Select(pair => $"{pair.Key}={pair.Value}\n"));

    private byte[] ReadBytes(string path)
    {
        Assert.Equal(Errno.None, _host.Tree.Open(path, FileAccess.Read, Caller.Root, out var file));
        var buffer = new byte[SysfsAttribute.ReportedSize];
        var count = file!.Read(0, buffer);
        Assert.True(count >= 0);
        return buffer[..count];
    }
}
