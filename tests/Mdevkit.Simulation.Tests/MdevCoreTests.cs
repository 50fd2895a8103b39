using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class MdevCoreTests
{
    private const string MttyPath = "sys/devices/virtual/mtty/mtty";
    private readonly SimulatedHost _host = HostFiles.Boot("samples");

    [Fact]
    public void Create_UppercaseUuid_NamesDeviceInLowercase()
    {
        var uuid = Guid.NewGuid();
        var upper = MdevUuid.Format(uuid).ToUpperInvariant();

        Assert.Equal(Errno.None, _host.Write($"{_host.TypePath("mtty", "mtty-1")}/create", upper));

        Assert.True(_host.Tree.TryLookup($"{MttyPath}/{MdevUuid.Format(uuid)}", out var node));
        Assert.IsType<SysfsDirectory>(node);
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\r\n")]
    [InlineData("83b8f4f2-509f-382f-3c1e-e6bfe0fa10z1")]
    public void Create_InvalidText_FailsWithEinval(string input)
    {
        Assert.Equal(Errno.EINVAL, _host.Write($"{_host.TypePath("mtty", "mtty-1")}/create", input));
        Assert.Empty(_host.Core.Devices);
    }

    [Fact]
    public void Create_UuidInUseOnAnotherParent_FailsWithEexist()
    {
        var uuid = Guid.NewGuid();
        Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", uuid));

        Assert.Equal(Errno.EEXIST, _host.Create("mdpy", "mdpy-vga", uuid));
        Assert.Equal(Errno.EEXIST, _host.Write($"{_host.TypePath("mbochs", "mbochs-small")}/create", MdevUuid.Format(uuid).ToUpperInvariant()));
        Assert.Equal(4u, _host.Available("mdpy", "mdpy-vga"));
    }

    [Fact]
    public void Create_ProbeFails_LeavesNoTrace()
    {
        var events = new List<Uevent>();
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal(Errno.None, _host.Create("mtty", "mtty-2", Guid.NewGuid()));
        }
        var groupsBefore = _host.Tree.List((SysfsDirectory)Resolve(SysfsPaths.IommuGroups)).Count;
        _host.UeventRaised += events.Add;
        var uuid = Guid.NewGuid();

        Assert.Equal(Errno.ENOSPC, _host.Create("mtty", "mtty-1", uuid));

        var name = MdevUuid.Format(uuid);
        Assert.False(_host.Tree.TryLookup($"{MttyPath}/{name}", out _));
        Assert.False(_host.Tree.TryLookup($"{SysfsPaths.MdevBusDevices}/{name}", out _));
        Assert.Equal(groupsBefore, _host.Tree.List((SysfsDirectory)Resolve(SysfsPaths.IommuGroups)).Count);
        Assert.Equal(["add", "remove"], events.Select(e => e.Action));
        Assert.Equal(12, _host.Core.Devices.Count);
    }

    [Fact]
    public void Create_Success_SendsAddThenBind()
    {
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;
        var uuid = Guid.NewGuid();

        _host.Create("mtty", "mtty-1", uuid);

        Assert.Equal(["add", "bind"], events.Select(e => e.Action));
        Assert.All(events, e => Assert.Equal($"/devices/virtual/mtty/mtty/{MdevUuid.Format(uuid)}", e.DevicePath));
        Assert.All(events, e => Assert.Equal("mdev", e["SUBSYSTEM"]));
        Assert.Equal("mtty", events[1]["DRIVER"]);
        Assert.True(long.Parse(events[1]["SEQNUM"]!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(events[0]["SEQNUM"]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0\n")]
    [InlineData("0x0")]
    public void Remove_Zero_DoesNothing(string input)
    {
        Assert.Equal(Errno.None, _host.Write(CreateMttyDevice(out _), input));

        Assert.Single(_host.Core.Devices);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("yes")]
    [InlineData("1 ")]
    [InlineData("99999999999999999999999")]
    public void Remove_NotANumber_FailsWithEinval(string input)
    {
        var result = _host.Write(CreateMttyDevice(out _), input);

        // A 0-byte write never reaches store(), so it "succeeds" without effect, as on the kernel.
        Assert.Equal(input.Length == 0 ? Errno.None : Errno.EINVAL, result);
        Assert.Single(_host.Core.Devices);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0x1")]
    [InlineData("+1")]
    [InlineData("010")]
    public void Remove_NonZero_Removes(string input)
    {
        Assert.Equal(Errno.None, _host.Write(CreateMttyDevice(out var uuid), input));

        Assert.Empty(_host.Core.Devices);
        Assert.False(_host.Tree.TryLookup($"{SysfsPaths.MdevBusDevices}/{MdevUuid.Format(uuid)}", out _));
        Assert.Equal(24u, _host.Available("mtty", "mtty-1"));
    }

    [Fact]
    public void Remove_ThroughHandleOpenedBeforeRemoval_FailsWithEnodev()
    {
        var path = CreateMttyDevice(out _);
        Assert.Equal(Errno.None, _host.Tree.Open(path, FileAccess.Write, Caller.Root, out var first));
        Assert.Equal(Errno.None, _host.Tree.Open(path, FileAccess.Write, Caller.Root, out var second));

        Assert.Equal(2, first!.Write("1\n"u8));
        Assert.Equal(-(int)Errno.ENODEV, second!.Write("1\n"u8));
        Assert.Equal(Errno.ENOENT, _host.Tree.Open(path, FileAccess.Write, Caller.Root, out _));
    }

    [Fact]
    public void Open_WriteOnlyForReading_FailsWithEaccesEvenForRoot()
    {
        var create = $"{_host.TypePath("mtty", "mtty-1")}/create";
        Assert.Equal(Errno.EACCES, _host.Tree.Open(create, FileAccess.Read, Caller.Root, out _));
        Assert.Equal(Errno.EACCES, _host.Tree.Open(create, FileAccess.ReadWrite, Caller.Root, out _));
        Assert.Equal(Errno.EACCES, _host.Tree.Open($"{_host.TypePath("mtty", "mtty-1")}/name", FileAccess.Write, Caller.Root, out _));
    }

    [Fact]
    public void Open_ByOtherUser_FollowsModeBits()
    {
        var user = new Caller(1234, 1000, 1000);
        var type = _host.TypePath("mtty", "mtty-1");
        Assert.Equal(Errno.EACCES, _host.Tree.Open($"{type}/create", FileAccess.Write, user, out _));
        Assert.Equal(Errno.None, _host.Tree.Open($"{type}/available_instances", FileAccess.Read, user, out _));
        Assert.Equal(Errno.EACCES, _host.Tree.Open($"{MttyPath}/uevent", FileAccess.Write, user, out _));
    }

    [Fact]
    public void Open_DirectoryOrMissing_FailsLikeTheVfs()
    {
        Assert.Equal(Errno.EISDIR, _host.Tree.Open(MttyPath, FileAccess.Read, Caller.Root, out _));
        Assert.Equal(Errno.ENOENT, _host.Tree.Open($"{MttyPath}/nothing", FileAccess.Read, Caller.Root, out _));
        Assert.Equal(Errno.ENOTDIR, _host.Tree.Open($"{_host.TypePath("mtty", "mtty-1")}/name/x", FileAccess.Read, Caller.Root, out _));
    }

    [Fact]
    public void Read_AtOffsets_ContinuesOneShowAndRerunsItAtZero()
    {
        Assert.Equal(Errno.None, _host.Tree.Open($"{_host.TypePath("mtty", "mtty-1")}/available_instances", FileAccess.Read, Caller.Root, out var file));
        var buffer = new byte[1];

        Assert.Equal(1, file!.Read(0, buffer));
        Assert.Equal((byte)'2', buffer[0]);
        _host.Create("mtty", "mtty-1", Guid.NewGuid());
        Assert.Equal(1, file.Read(1, buffer));
        Assert.Equal((byte)'4', buffer[0]); // still the text shown at offset 0
        Assert.Equal(1, file.Read(2, buffer));
        Assert.Equal(0, file.Read(3, buffer));
        Assert.Equal(1, file.Read(0, buffer));
        Assert.Equal((byte)'2', buffer[0]); // "23\n" now
    }

    [Fact]
    public void Write_Empty_ReturnsZeroWithoutStore()
    {
        Assert.Equal(Errno.None, _host.Tree.Open($"{_host.TypePath("mtty", "mtty-1")}/create", FileAccess.Write, Caller.Root, out var file));
        Assert.Equal(0, file!.Write([]));
    }

    [Fact]
    public void IommuGroups_TakeTheLowestFreeNumber_AsTheIdaDoes()
    {
        Guid[] uuids = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        foreach (var uuid in uuids)
        {
            Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", uuid));
        }
        int GroupOf(Guid uuid) => _host.Core.Devices.Single(device => device.Uuid == uuid).IommuGroup;
        var numbers = uuids.Select(GroupOf).ToArray();
        var freed = numbers[1];

        Assert.Equal(Errno.None, _host.Core.Remove(_host.Core.Devices.Single(device => device.Uuid == uuids[1])));
        Assert.Equal(Errno.None, _host.Core.Remove(_host.Core.Devices.Single(device => device.Uuid == uuids[2])));
        var again = Guid.NewGuid();
        var next = Guid.NewGuid();
        Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", again));
        Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", next));

        Assert.Equal([numbers[0], numbers[0] + 1, numbers[0] + 2], numbers);
        Assert.Equal(freed, GroupOf(again));
        Assert.Equal(numbers[2], GroupOf(next));
    }

    [Fact]
    public void Layout_DeviceLinksAndModes_MatchKernel()
    {
        var uuid = Guid.NewGuid();
        var name = MdevUuid.Format(uuid);
        _host.Create("mtty", "mtty-2", uuid);
        var device = $"{MttyPath}/{name}";
        var group = _host.Core.Devices.Single().IommuGroup;

        Assert.Equal("../../devices/virtual/mtty/mtty", LinkText("sys/class/mdev_bus/mtty"));
        Assert.Equal($"../../../devices/virtual/mtty/mtty/{name}", LinkText($"sys/bus/mdev/devices/{name}"));
        Assert.Equal("../mdev_supported_types/mtty-2", LinkText($"{device}/mdev_type"));
        Assert.Equal($"../../../{name}", LinkText($"{MttyPath}/mdev_supported_types/mtty-2/devices/{name}"));
        Assert.Equal("../../../../../bus/mdev/drivers/mtty", LinkText($"{device}/driver"));
        Assert.Equal("../../../../../bus/mdev", LinkText($"{device}/subsystem"));
        Assert.Equal($"../../../../../kernel/iommu_groups/{group}", LinkText($"{device}/iommu_group"));
        Assert.Equal($"../../../../devices/virtual/mtty/mtty/{name}", LinkText($"sys/kernel/iommu_groups/{group}/devices/{name}"));
        Assert.Equal($"../../../../devices/virtual/mtty/mtty/{name}", LinkText($"sys/bus/mdev/drivers/mtty/{name}"));

        Assert.Equal(SysfsAttribute.WriteOnly, Resolve($"{device}/remove").Mode);
        Assert.Equal(SysfsAttribute.ReadWrite, Resolve($"{device}/uevent").Mode);
        Assert.Equal(SysfsDirectory.DirectoryMode, Resolve(device).Mode);
        Assert.Equal("DRIVER=mtty\n", _host.Read($"{device}/uevent"));
    }

    [Fact]
    public void Layout_TypeDirectory_HasKernelFilesAndModes()
    {
        var type = $"{MttyPath}/mdev_supported_types/mdev-none";
        var mbochs = "sys/devices/virtual/mbochs/mbochs/mdev_supported_types/mbochs-large";
        Assert.False(_host.Tree.TryLookup(type, out _));

        var names = _host.Tree.List((SysfsDirectory)Resolve(mbochs)).Select(node => node.Name);

        Assert.Equal(["available_instances", "create", "description", "device_api", "devices", "name"], names);
        Assert.Equal(SysfsAttribute.WriteOnly, Resolve($"{mbochs}/create").Mode);
        foreach (var file in new[] { "available_instances", "description", "device_api", "name" })
        {
            Assert.Equal(SysfsAttribute.ReadOnly, Resolve($"{mbochs}/{file}").Mode);
        }
        Assert.Equal(SysfsDirectory.DirectoryMode, Resolve($"{mbochs}/devices").Mode);
    }

    [Fact]
    public void Uevent_WriteActionName_SynthesizesEvent()
    {
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;

        Assert.Equal(Errno.None, _host.Write($"{MttyPath}/uevent", "change\n"));
        Assert.Equal(Errno.EINVAL, _host.Write($"{MttyPath}/uevent", "explode"));

        var single = Assert.Single(events);
        Assert.Equal("change", single.Action);
        Assert.Equal("/devices/virtual/mtty/mtty", single.DevicePath);
    }

    // Creates an mtty-1 device and returns the path of its remove file.
    private string CreateMttyDevice(out Guid uuid)
    {
        uuid = Guid.NewGuid();
        Assert.Equal(Errno.None, _host.Create("mtty", "mtty-1", uuid));
        return $"{SysfsPaths.MdevBusDevices}/{MdevUuid.Format(uuid)}/remove";
    }

    private SysfsNode Resolve(string path)
    {
        Assert.True(_host.Tree.TryResolve(path, out var node), path);
        return node;
    }

    private string LinkText(string path)
    {
        Assert.True(_host.Tree.TryLookup(path, out var node), path);
        return Assert.IsType<SysfsLink>(node).TargetText;
    }
}
