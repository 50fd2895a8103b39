using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>SR-IOV as the PCI core rules it, and NVIDIA's Ampere (mdev on VFs) and vGPU 17+ (vendor-specific VFIO) GPUs.</summary>
public sealed class NvidiaSriovTests
{
    private const string A40 = "0000:41:00.0";
    private const string L40S = "0000:81:00.0";
    private const string Pci = "sys/bus/pci/devices";

    private readonly SimulatedHost _host = HostFiles.Boot("nvidia-mixed");

    [Fact]
    public void Boot_SriovGpus_AreBoundButNoMdevParents()
    {
        foreach (var pf in new[] { A40, L40S })
        {
            Assert.Equal("32\n", _host.Read($"{Pci}/{pf}/sriov_totalvfs"));
            Assert.Equal("0\n", _host.Read($"{Pci}/{pf}/sriov_numvfs"));
            Assert.Equal("4\n", _host.Read($"{Pci}/{pf}/sriov_offset"));
            Assert.EndsWith("bus/pci/drivers/nvidia", _host.LinkText($"{Pci}/{pf}/driver"), StringComparison.Ordinal);
            Assert.False(_host.Exists($"{SysfsPaths.MdevBusClass}/{pf}"));
            Assert.False(_host.Exists($"{Pci}/{pf}/{SysfsNames.SupportedTypes}"));
        }
        Assert.True(_host.Exists($"{SysfsPaths.MdevBusClass}/0000:3e:00.0"));
        Assert.Equal(SysfsAttribute.ReadWrite, _host.Node($"{Pci}/{A40}/sriov_numvfs").Mode);
        Assert.Equal(SysfsAttribute.ReadOnly, _host.Node($"{Pci}/{A40}/sriov_totalvfs").Mode);
    }

    [Theory]
    [InlineData("33", Errno.ERANGE)]
    [InlineData("65536", Errno.EINVAL)]
    [InlineData("-1", Errno.EINVAL)]
    [InlineData("four", Errno.EINVAL)]
    public void NumVfs_BadCount_Refused(string text, Errno expected)
    {
        Assert.Equal(expected, _host.Write($"{Pci}/{A40}/sriov_numvfs", text + "\n"));
        Assert.Equal("0\n", _host.Read($"{Pci}/{A40}/sriov_numvfs"));
    }

    [Fact]
    public void NumVfs_Enable_MakesLinkedFunctionsAtOffsetFour()
    {
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{A40}/sriov_numvfs", "32\n"));

        Assert.Equal("32\n", _host.Read($"{Pci}/{A40}/sriov_numvfs"));
        Assert.Equal("../0000:41:00.4", _host.LinkText($"{Pci}/{A40}/virtfn0"));
        Assert.Equal("../0000:41:01.0", _host.LinkText($"{Pci}/{A40}/virtfn4"));
        Assert.Equal("../0000:41:04.3", _host.LinkText($"{Pci}/{A40}/virtfn31"));
        Assert.Equal("../0000:41:00.0", _host.LinkText($"{Pci}/0000:41:04.3/physfn"));
        Assert.True(_host.Exists($"{Pci}/0000:41:00.4/iommu_group"));
        Assert.Equal("0x2235\n", _host.Read($"{Pci}/0000:41:00.4/device"));
    }

    [Fact]
    public void NumVfs_OtherCountWhileEnabled_IsEbusy_SameCountAndZeroWork()
    {
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{A40}/sriov_numvfs", "4"));

        Assert.Equal(Errno.EBUSY, _host.Write($"{Pci}/{A40}/sriov_numvfs", "8"));
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{A40}/sriov_numvfs", "4"));
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{A40}/sriov_numvfs", "0"));

        Assert.False(_host.Exists($"{Pci}/{A40}/virtfn0"));
        Assert.False(_host.Exists($"{Pci}/0000:41:00.4"));
        Assert.False(_host.Exists($"{SysfsPaths.MdevBusClass}/0000:41:00.4"));
    }

    [Fact]
    public void Ampere_EachVf_OffersEveryTypeOnce()
    {
        _host.Write($"{Pci}/{A40}/sriov_numvfs", "32");

        Assert.True(_host.Core.TryGetParent("0000:41:00.4", out var vf));
        Assert.Equal(29, vf.Types.Count);
        Assert.All(vf.Types, type => Assert.Equal(1u, _host.Available(vf.Name, type.Id)));
        var path = _host.TypePath("0000:41:00.4", "nvidia-555");
        Assert.Equal("NVIDIA A40-1B\n", _host.Read($"{path}/name"));
        Assert.Equal("num_heads=4, frl_config=45, framebuffer=1024M, max_resolution=5120x2880, max_instance=32\n", _host.Read($"{path}/description"));
        Assert.Equal("num_heads=4, frl_config=60, framebuffer=49152M, max_resolution=7680x4320, max_instance=1\n",
            _host.Read($"{_host.TypePath("0000:41:00.4", "nvidia-566")}/description"));
    }

    [Fact]
    public void Ampere_OneVgpuOnAVf_EmptiesItAndLimitsSiblingsToItsSize()
    {
        _host.Write($"{Pci}/{A40}/sriov_numvfs", "32");

        _host.CreateOk("0000:41:00.4", "nvidia-563"); // A40-12Q: four fit

        Assert.All(_host.Core.Parents.Single(parent => parent.Name == "0000:41:00.4").Types, type => Assert.Equal(0u, _host.Available("0000:41:00.4", type.Id)));
        Assert.Equal([1u, 1u, 0u, 0u], _host.Availability("0000:41:00.5", "nvidia-563", "nvidia-573", "nvidia-562", "nvidia-566"));
        Assert.Equal(Errno.EINVAL, _host.Create("0000:41:00.5", "nvidia-562", Guid.NewGuid()));
        Assert.Equal(Errno.EINVAL, _host.Create("0000:41:00.4", "nvidia-563", Guid.NewGuid()));

        _host.CreateOk("0000:41:00.5", "nvidia-573"); // A40-12A: the same size
        _host.CreateOk("0000:41:00.6", "nvidia-563");
        _host.CreateOk("0000:41:00.7", "nvidia-563");
        Assert.Equal(0u, _host.Available("0000:41:01.0", "nvidia-563"));
        Assert.Equal(Errno.EBUSY, _host.Write($"{Pci}/{A40}/sriov_numvfs", "0"));
    }

    [Fact]
    public void MixedSizes_AllowsSizesSideBySide_UntilTheFramebufferIsFull()
    {
        _host.Write($"{Pci}/{A40}/sriov_numvfs", "4");
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{A40}/sim/vgpu_heterogeneous_mode", "1"));

        _host.CreateOk("0000:41:00.4", "nvidia-565"); // 24 GB
        _host.CreateOk("0000:41:00.5", "nvidia-564"); // 16 GB
        Assert.Equal([1u, 0u], _host.Availability("0000:41:00.6", "nvidia-562", "nvidia-563")); // 8 GB left
        Assert.Equal(Errno.EBUSY, _host.Write($"{Pci}/{A40}/sim/vgpu_heterogeneous_mode", "0"));
    }

    [Fact]
    public void MixedSizes_EnablingVfs_ClearsTheMode()
    {
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{L40S}/sim/vgpu_heterogeneous_mode", "1"));

        _host.Write($"{Pci}/{L40S}/sriov_numvfs", "4");

        Assert.Equal("0\n", _host.Read($"{Pci}/{L40S}/sim/vgpu_heterogeneous_mode"));
    }

    [Fact]
    public void VendorVfio_Vf_HasNoMdevButNvidiaFilesAndVfio()
    {
        _host.Write($"{Pci}/{L40S}/sriov_numvfs", "32");
        var vf = $"{Pci}/0000:81:00.4";

        Assert.False(_host.Exists($"{SysfsPaths.MdevBusClass}/0000:81:00.4"));
        Assert.False(_host.Exists($"{vf}/{SysfsNames.SupportedTypes}"));
        Assert.Equal("0\n", _host.Read($"{vf}/nvidia/current_vgpu_type"));
        Assert.Equal(SysfsAttribute.ReadWrite, _host.Node($"{vf}/nvidia/current_vgpu_type").Mode);
        Assert.Equal(SysfsAttribute.ReadOnly, _host.Node($"{vf}/nvidia/creatable_vgpu_types").Mode);
        var creatable = _host.Read($"{vf}/nvidia/creatable_vgpu_types").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ID", creatable[0], StringComparison.Ordinal);
        Assert.Equal(22, creatable.Length - 1);
        Assert.Contains("1147  : NVIDIA L40S-1Q", creatable);
        Assert.Contains("1156  : NVIDIA L40S-48Q", creatable);
        Assert.True(_host.Exists($"{vf}/vfio-dev/vfio0"));
        Assert.True(_host.Exists("dev/vfio/devices/vfio0"));
        Assert.True(_host.Exists("dev/vfio/devices/vfio31"));
        var group = _host.LinkText($"{vf}/iommu_group").Split('/')[^1];
        Assert.True(_host.Exists($"dev/vfio/{group}"));
    }

    [Fact]
    public void VendorVfio_CreatableLists_ShrinkAsSiblingsFill()
    {
        _host.Write($"{Pci}/{L40S}/sriov_numvfs", "32");

        Assert.Equal(Errno.None, _host.Write($"{Pci}/0000:81:00.4/nvidia/current_vgpu_type", "1155\n")); // 24Q: two fit

        Assert.Equal("1155\n", _host.Read($"{Pci}/0000:81:00.4/nvidia/current_vgpu_type"));
        Assert.Equal(["1155", "1165"], CreatableIds("0000:81:00.5"));
        Assert.Empty(CreatableIds("0000:81:00.4"));
        Assert.Equal(Errno.None, _host.Write($"{Pci}/0000:81:00.5/nvidia/current_vgpu_type", "1165"));
        Assert.Empty(CreatableIds("0000:81:00.6"));

        Assert.Equal(Errno.None, _host.Write($"{Pci}/0000:81:00.4/nvidia/current_vgpu_type", "0"));
        Assert.Equal(["1155", "1165"], CreatableIds("0000:81:00.6"));
    }

    [Theory]
    [InlineData("1", Errno.EINVAL)] // no type of this GPU
    [InlineData("557", Errno.EINVAL)] // an A40 type
    [InlineData("L40S-1Q", Errno.EINVAL)]
    [InlineData("1156", Errno.ENOSPC)] // 48Q: not next to a 24Q
    public void VendorVfio_Refusals(string id, Errno expected)
    {
        _host.Write($"{Pci}/{L40S}/sriov_numvfs", "2");
        _host.Write($"{Pci}/0000:81:00.4/nvidia/current_vgpu_type", "1155");

        Assert.Equal(expected, _host.Write($"{Pci}/0000:81:00.5/nvidia/current_vgpu_type", id));
        Assert.Equal("0\n", _host.Read($"{Pci}/0000:81:00.5/nvidia/current_vgpu_type"));
    }

    [Fact]
    public void VendorVfio_BusyVf_AndHeldVf_AreEbusy()
    {
        _host.Write($"{Pci}/{L40S}/sriov_numvfs", "2");
        var current = $"{Pci}/0000:81:00.4/nvidia/current_vgpu_type";
        Assert.Equal(Errno.ENODEV, _host.Tree.Open("dev/vfio/devices/vfio0", FileAccess.ReadWrite, Caller.Root, out _));
        _host.Write(current, "1150");

        Assert.Equal(Errno.EBUSY, _host.Write(current, "1151"));
        Assert.Equal(Errno.None, _host.Tree.Open("dev/vfio/devices/vfio0", FileAccess.ReadWrite, new Caller(42, 0, 0), out var held));
        Assert.Equal(Errno.EBUSY, _host.Tree.Open("dev/vfio/devices/vfio0", FileAccess.ReadWrite, new Caller(43, 0, 0), out _));
        Assert.Equal(Errno.EBUSY, _host.Write(current, "0"));
        Assert.Equal(Errno.EBUSY, _host.Write($"{Pci}/{L40S}/sriov_numvfs", "0"));

        held!.Release();
        Assert.Equal(Errno.None, _host.Write(current, "0"));
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{L40S}/sriov_numvfs", "0"));
        Assert.False(_host.Exists("dev/vfio/devices/vfio0"));
    }

    [Fact]
    public void Reboot_VfsAreGoneUntilEnabledAgain()
    {
        _host.Write($"{Pci}/{A40}/sriov_numvfs", "4");
        _host.Write($"{Pci}/{L40S}/sriov_numvfs", "4");
        _host.CreateOk("0000:41:00.4", "nvidia-560");
        _host.Write($"{Pci}/0000:81:00.4/nvidia/current_vgpu_type", "1150");

        _host.Reboot();

        Assert.Equal("0\n", _host.Read($"{Pci}/{A40}/sriov_numvfs"));
        Assert.False(_host.Exists($"{Pci}/0000:41:00.4"));
        Assert.False(_host.Exists($"{Pci}/0000:81:00.4"));
        Assert.False(_host.Exists("dev/vfio/devices/vfio0"));
        Assert.Equal(3, _host.Core.Parents.Count);
        Assert.Empty(_host.Core.Devices);
        Assert.Equal(Errno.None, _host.Write($"{Pci}/{L40S}/sriov_numvfs", "4"));
        Assert.Equal("0\n", _host.Read($"{Pci}/0000:81:00.4/nvidia/current_vgpu_type"));
    }

    [Fact]
    public void Unplug_TakesTheVfsAndTheirVgpus_PlugBringsThePfBackWithout()
    {
        _host.Write($"{Pci}/{A40}/sriov_numvfs", "4");
        var uuid = _host.CreateOk("0000:41:00.5", "nvidia-560");
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;

        Assert.Equal(Errno.ENODEV, _host.Unplug("0000:41:00.5"));
        Assert.Equal(Errno.None, _host.Unplug(A40));

        Assert.False(_host.Core.TryGetDevice(uuid, out _));
        Assert.False(_host.Exists($"{Pci}/0000:41:00.5"));
        Assert.Contains(events, e => e.Action == "remove" && e.DevicePath.EndsWith("/0000:41:00.5", StringComparison.Ordinal));
        Assert.Contains(events, e => e["MDEV_STATE"] == "unregistered" && e.DevicePath.EndsWith("/0000:41:00.5", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e["MDEV_STATE"] is not null && e.DevicePath.EndsWith("/" + A40, StringComparison.Ordinal));
        Assert.Equal(Errno.None, _host.Plug(A40));
        Assert.Equal("0\n", _host.Read($"{Pci}/{A40}/sriov_numvfs"));
    }

    [Fact]
    public void Enable_RaisesAddAndRegisteredForEachAmpereVf_AddForTheVfioDevices()
    {
        var events = new List<Uevent>();
        _host.UeventRaised += events.Add;

        _host.Write($"{Pci}/{A40}/sriov_numvfs", "2");
        _host.Write($"{Pci}/{L40S}/sriov_numvfs", "2");

        Assert.Equal(2, events.Count(e => e["MDEV_STATE"] == "registered"));
        Assert.Equal(4, events.Count(e => e.Action == "add" && e["SUBSYSTEM"] == "pci"));
        Assert.Equal(["vfio/devices/vfio0", "vfio/devices/vfio1"], events.Where(e => e["SUBSYSTEM"] == "vfio-dev").Select(e => e["DEVNAME"]));
    }

    private string[] CreatableIds(string vf) =>
        [.. _host.Read($"{Pci}/{vf}/nvidia/creatable_vgpu_types").Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(' ')[0])];
}
