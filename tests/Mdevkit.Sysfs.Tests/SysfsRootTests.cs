using Mdevkit.TestSupport;

namespace Mdevkit.Sysfs.Tests;

public sealed class SysfsRootTests : IDisposable
{
    private const string Gpu = "sys/devices/pci0000:00/0000:00:02.0";
    private const string Uuid = "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9";
    private readonly TempRoot _root = new(nameof(SysfsRootTests));
    private readonly SysfsRoot _sysfs;

    public SysfsRootTests()
    {
        _root.Parent(Gpu, "0000:00:02.0");
        _root.Type(Gpu, "i915-GVTg_V5_8", 7, "vfio-pci", "GVTg_V5_8", "low_gm_size: 64MB\nhigh_gm_size: 384MB\n");
        _root.Type(Gpu, "i915-GVTg_V5_4", 5, "vfio-pci", null, null);
        _root.Parent("sys/devices/css0/0.0.0123", "0.0.0123");
        _sysfs = new SysfsRoot(_root.Path);
    }

    [Fact]
    public void GetParentNames_ListsMdevBusClassInByteOrder()
    {
        Assert.Equal(["0.0.0123", "0000:00:02.0"], _sysfs.GetParentNames());
    }

    [Fact]
    public void GetParentNames_NoMdevSupport_IsEmpty()
    {
        using var empty = new TempRoot(nameof(SysfsRootTests));
        Assert.Empty(new SysfsRoot(empty.Path).GetParentNames());
        Assert.Empty(new SysfsRoot(empty.Path).GetActiveDevices());
    }

    [Fact]
    public void GetTypes_ReadsAttributesWithOptionalNameAndDescription()
    {
        var types = _sysfs.GetTypes("0000:00:02.0");

        Assert.Equal(
            [
                new MdevTypeInfo("i915-GVTg_V5_4", 5, "vfio-pci", null, null),
                new MdevTypeInfo("i915-GVTg_V5_8", 7, "vfio-pci", "GVTg_V5_8", "low_gm_size: 64MB\nhigh_gm_size: 384MB"),
            ],
            types);
    }

    [Fact]
    public void GetTypes_ParentWithoutSupportedTypes_ThrowsEnoent()
    {
        var error = Assert.Throws<SysfsException>(() => _sysfs.GetTypes("0.0.0123"));
        Assert.Equal(Errno.ENOENT, error.Errno);
    }

    [Fact]
    public void GetAvailableInstances_OfTheTypesKnown_ReadsEachCount_AndNoneWhenTheTypesAreOthers()
    {
        Assert.Equal([5, 7], _sysfs.GetAvailableInstances("0000:00:02.0", ["i915-GVTg_V5_4", "i915-GVTg_V5_8"]));

        // A driver that hides a type it has no room for, or shows one again: the caller must read the types whole.
        Assert.Null(_sysfs.GetAvailableInstances("0000:00:02.0", ["i915-GVTg_V5_8"]));
        _root.Type(Gpu, "i915-GVTg_V5_2", 2, "vfio-pci", null, null);
        Assert.Null(_sysfs.GetAvailableInstances("0000:00:02.0", ["i915-GVTg_V5_4", "i915-GVTg_V5_8"]));
        Assert.Null(_sysfs.GetAvailableInstances("0.0.0123", ["i915-GVTg_V5_4"]));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../etc")]
    [InlineData("a/b")]
    [InlineData("")]
    public void GetTypes_NameLeavingTheClassDirectory_ThrowsEinval(string parent)
    {
        Assert.Equal(Errno.EINVAL, Assert.Throws<SysfsException>(() => _sysfs.GetTypes(parent)).Errno);
        Assert.False(_sysfs.ParentExists(parent));
    }

    [Fact]
    public void GetActiveDevices_ResolvesParentAndTypeThroughLinks()
    {
        _root.Device(Gpu, Uuid, "i915-GVTg_V5_8");
        _root.File("sys/bus/mdev/devices/not-a-uuid", "");

        var device = Assert.Single(_sysfs.GetActiveDevices());

        Assert.Equal(new ActiveDevice(Guid.Parse(Uuid), "0000:00:02.0", "i915-GVTg_V5_8"), device);
    }

    [Fact]
    public void GetActiveDevices_DanglingTypeLink_LeavesDeviceOut()
    {
        _root.Device(Gpu, Uuid, "i915-GVTg_V5_1");

        Assert.Empty(_sysfs.GetActiveDevices());
    }

    [Fact]
    public void CreateDevice_WritesUuidWithoutNewline()
    {
        _sysfs.CreateDevice("0000:00:02.0", "i915-GVTg_V5_4", Guid.Parse(Uuid));

        Assert.Equal(Uuid, File.ReadAllText(_root.Join($"{Gpu}/mdev_supported_types/i915-GVTg_V5_4/create")));
    }

    [Fact]
    public void CreateDevice_UnknownType_ThrowsEnoent()
    {
        var error = Assert.Throws<SysfsException>(() => _sysfs.CreateDevice("0000:00:02.0", "i915-GVTg_V5_1", Guid.Parse(Uuid)));

        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.EndsWith("/mdev_supported_types/i915-GVTg_V5_1/create", error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void RemoveDevice_WritesOne()
    {
        _root.Device(Gpu, Uuid, "i915-GVTg_V5_8");

        _sysfs.RemoveDevice(Guid.Parse(Uuid));

        Assert.Equal("1", File.ReadAllText(_root.Join($"{Gpu}/{Uuid}/remove")));
    }

    [Theory]
    [InlineData("../remove")]
    [InlineData("/etc/passwd")]
    [InlineData("vendor/../../x")]
    public void WriteDeviceAttribute_PathLeavingDevice_ThrowsEinval(string attribute)
    {
        _root.Device(Gpu, Uuid, "i915-GVTg_V5_8");

        Assert.Equal(Errno.EINVAL, Assert.Throws<SysfsException>(() => _sysfs.WriteDeviceAttribute(Guid.Parse(Uuid), attribute, "1")).Errno);
    }

    [Theory]
    [InlineData("mdev_type/create")]
    [InlineData("mdev_type/devices/x")]
    public void WriteDeviceAttribute_ThroughSymbolicLink_ThrowsEloopAndWritesNothing(string attribute)
    {
        _root.Device(Gpu, Uuid, "i915-GVTg_V5_8");
        _root.File($"{Gpu}/mdev_supported_types/i915-GVTg_V5_8/devices/x", "");

        var error = Assert.Throws<SysfsException>(() => _sysfs.WriteDeviceAttribute(Guid.Parse(Uuid), attribute, "1"));

        Assert.Equal(Errno.ELOOP, error.Errno);
        Assert.Equal("", File.ReadAllText(_root.Join($"{Gpu}/mdev_supported_types/i915-GVTg_V5_8/{attribute["mdev_type/".Length..]}")));
    }

    [Fact]
    public void WriteDeviceAttribute_FileOfPlainSubdirectory_IsWritten()
    {
        _root.Device(Gpu, Uuid, "i915-GVTg_V5_8");
        _root.File($"{Gpu}/{Uuid}/nvidia/vgpu_params", "");

        _sysfs.WriteDeviceAttribute(Guid.Parse(Uuid), "nvidia/vgpu_params", "frame_rate_limiter=0");

        Assert.Equal("frame_rate_limiter=0", File.ReadAllText(_root.Join($"{Gpu}/{Uuid}/nvidia/vgpu_params")));
    }

    // The walk that stands in for openat2 on kernels before 5.6 refuses the same links.
    [Theory]
    [InlineData("mdev_type/create", Errno.ELOOP)]
    [InlineData("mdev_type", Errno.ELOOP)]
    [InlineData("nvidia/vgpu_params", Errno.None)]
    [InlineData("nvidia/missing", Errno.ENOENT)]
    public void OpenBeneathByComponents_FollowsNoLink(string attribute, Errno expected)
    {
        _root.Device(Gpu, Uuid, "i915-GVTg_V5_8");
        _root.File($"{Gpu}/{Uuid}/nvidia/vgpu_params", "");
        var directoryFd = Native.Libc.openat(Native.Libc.AT_FDCWD, _root.Join($"{Gpu}/{Uuid}"), Native.Libc.O_PATH | Native.Libc.O_CLOEXEC);

        try
        {
            var errno = Errno.None;
            try
            {
                _ = Native.Libc.close(SysfsRoot.OpenBeneathByComponents(directoryFd, attribute, Native.Libc.O_WRONLY | Native.Libc.O_CLOEXEC, attribute));
            }
            catch (SysfsException e)
            {
                errno = e.Errno;
            }
            Assert.Equal(expected, errno);
        }
        finally
        {
            _ = Native.Libc.close(directoryFd);
        }
    }

    [Fact]
    public void RemoveDevice_KernelRefusal_CarriesErrno()
    {
        // /dev/full refuses every write with ENOSPC, as a driver out of resources does.
        var remove = _root.Join($"sys/bus/mdev/devices/{Uuid}/remove");
        Directory.CreateDirectory(Path.GetDirectoryName(remove)!);
        File.CreateSymbolicLink(remove, "/dev/full");

        var error = Assert.Throws<SysfsException>(() => new SysfsRoot(_root.Path).RemoveDevice(Guid.Parse(Uuid)));

        Assert.Equal(Errno.ENOSPC, error.Errno);
        Assert.Equal($"No space left on device: {remove}", error.Message);
    }

    [Fact]
    public void CreateDevice_WithoutACreateFile_IsEnoent_AndMakesNone()
    {
        var type = _root.Join("sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1");
        Directory.CreateDirectory(type);
        _root.Link("sys/class/mdev_bus/mtty", "../../devices/virtual/mtty/mtty");

        var error = Assert.Throws<SysfsException>(() => new SysfsRoot(_root.Path).CreateDevice("mtty", "mtty-1", Guid.Parse(Uuid)));

        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.False(File.Exists(Path.Join(type, "create")));
    }

    public void Dispose() => _root.Dispose();
}
