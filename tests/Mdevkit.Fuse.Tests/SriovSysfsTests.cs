using Mdevkit.Sysfs;

namespace Mdevkit.Fuse.Tests;

/// <summary>The Sysfs layer's SR-IOV and vendor-specific VFIO calls on the simulated kernel, through the mount.</summary>
public sealed class SriovSysfsTests : IDisposable
{
    private const string A40 = "0000:41:00.0";
    private const string L40S = "0000:81:00.0";
    private readonly MountedHost _mounted = new("nvidia-mixed", nameof(SriovSysfsTests));
    private readonly SysfsRoot _sysfs;

    public SriovSysfsTests()
    {
        _sysfs = new SysfsRoot(_mounted.Root);
    }

    public void Dispose() => _mounted.Dispose();

    [Fact]
    public void EnablingVfs_LinksThemBothWays_AndTheKernelsRulesComeBackAsErrnos()
    {
        Assert.Equal((32, 0), (_sysfs.GetTotalVfs(L40S), _sysfs.GetNumVfs(L40S)));
        Assert.Null(_sysfs.GetTotalVfs("0000:3e:00.0"));

        _sysfs.SetNumVfs(L40S, 3);

        Assert.Equal(["0000:81:00.4", "0000:81:00.5", "0000:81:00.6"], _sysfs.GetVirtualFunctions(L40S));
        Assert.Equal(L40S, _sysfs.GetPhysicalFunction("0000:81:00.6"));
        Assert.Equal(Errno.EBUSY, Assert.Throws<SysfsException>(() => _sysfs.SetNumVfs(L40S, 2)).Errno);
        Assert.Equal(Errno.ERANGE, Assert.Throws<SysfsException>(() => _sysfs.SetNumVfs(A40, 33)).Errno);
    }

    [Fact]
    public void CurrentVgpuType_MakesTheVgpu_AndTheSiblingsCreatableListShrinks()
    {
        _sysfs.SetNumVfs(L40S, 2);
        Assert.True(_sysfs.HasVendorVgpu("0000:81:00.4"));
        Assert.False(_sysfs.HasVendorVgpu("0000:41:00.0"));
        Assert.Contains(new VgpuTypeInfo(1145, "NVIDIA L40S-1B"), _sysfs.GetCreatableVgpuTypes("0000:81:00.5"));

        _sysfs.SetCurrentVgpuType("0000:81:00.4", 1155);

        Assert.Equal(1155, _sysfs.GetCurrentVgpuType("0000:81:00.4"));
        Assert.Empty(_sysfs.GetCreatableVgpuTypes("0000:81:00.4"));
        Assert.Equal([new VgpuTypeInfo(1155, "NVIDIA L40S-24Q"), new VgpuTypeInfo(1165, "NVIDIA L40S-24A")], _sysfs.GetCreatableVgpuTypes("0000:81:00.5"));
        Assert.Equal(Errno.ENOSPC, Assert.Throws<SysfsException>(() => _sysfs.SetCurrentVgpuType("0000:81:00.5", 1156)).Errno);
        Assert.Equal(Errno.EBUSY, Assert.Throws<SysfsException>(() => _sysfs.SetCurrentVgpuType("0000:81:00.4", 1165)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<SysfsException>(() => _sysfs.SetCurrentVgpuType("0000:81:00.5", 4242)).Errno);

        _sysfs.SetCurrentVgpuType("0000:81:00.4", 0);

        Assert.Equal(0, _sysfs.GetCurrentVgpuType("0000:81:00.4"));
    }
}
