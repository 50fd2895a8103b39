using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class GvtDriverTests
{
    private const string Gpu = "0000:00:02.0";

    // Largest first, as the ids are often listed; registration order is V5_8, V5_4, V5_2, V5_1.
    private static readonly string[] s_types = ["i915-GVTg_V5_1", "i915-GVTg_V5_2", "i915-GVTg_V5_4", "i915-GVTg_V5_8"];

    private readonly SimulatedHost _host = HostFiles.Boot("gvt");

    [Fact]
    public void Available_WorkedExample_MatchesRealHost()
    {
        Assert.Equal([1u, 2, 5, 7], _host.Availability(Gpu, s_types));

        var uuid = _host.CreateOk(Gpu, "i915-GVTg_V5_4");

        Assert.Equal([1u, 2, 4, 5], _host.Availability(Gpu, s_types));

        Assert.Equal(Errno.None, _host.Remove(uuid));
        Assert.Equal([1u, 2, 5, 7], _host.Availability(Gpu, s_types));
    }

    [Fact]
    public void Create_LargestType_TakesHiddenMemoryFromOthers()
    {
        _host.CreateOk(Gpu, "i915-GVTg_V5_1");

        // Left: low 384 MB, high 640 MB, fences 24.
        Assert.Equal([0u, 0, 1, 1], _host.Availability(Gpu, s_types));
        Assert.Equal(Errno.ENOSPC, _host.Create(Gpu, "i915-GVTg_V5_1", Guid.NewGuid()));
        Assert.Equal(Errno.ENOSPC, _host.Create(Gpu, "i915-GVTg_V5_2", Guid.NewGuid()));

        _host.CreateOk(Gpu, "i915-GVTg_V5_8");

        Assert.Equal([0u, 0, 0, 0], _host.Availability(Gpu, s_types));
        Assert.Equal(Errno.ENOSPC, _host.Create(Gpu, "i915-GVTg_V5_8", Guid.NewGuid()));
    }

    [Fact]
    public void Create_FencesShort_FailsWithEnospcAndGivesMemoryBack()
    {
        // Guests get 128 MB of aperture and 4 fences: one V5_4, or one V5_8 at a time.
        var host = HostFiles.BootParents("""{ "driver": "i915", "apertureMB": 256, "fences": 8 }""");
        string[] types = ["i915-GVTg_V5_4", "i915-GVTg_V5_8"];
        Assert.Equal(types, host.Core.Parents.Single().Types.Select(type => type.Id).Reverse());
        var first = host.CreateOk(Gpu, "i915-GVTg_V5_8");
        Assert.Equal([0u, 0], host.Availability(Gpu, types));

        // The probe takes aperture and hidden memory before it finds no fence.
        Assert.Equal(Errno.ENOSPC, host.Create(Gpu, "i915-GVTg_V5_8", Guid.NewGuid()));
        Assert.Equal(Errno.None, host.Remove(first));

        Assert.Equal([1u, 1], host.Availability(Gpu, types));
        Assert.Empty(host.Core.Devices);
    }

    [Fact]
    public void Create_EighthVgpu_FailsWithEnospcThoughMemoryRemains()
    {
        var host = HostFiles.BootParents("""{ "driver": "i915", "apertureMB": 4096, "hiddenMB": 8192, "fences": 64 }""");
        var created = Enumerable.Range(0, 7).Select(_ => host.CreateOk(Gpu, "i915-GVTg_V5_8")).ToArray();
        Assert.Equal(["1\n", "2\n", "3\n", "4\n", "5\n", "6\n", "7\n"], created.Select(uuid => host.Read($"{HostFiles.DevicePath(uuid)}/intel_vgpu/vgpu_id")));
        Assert.Equal(8u, host.Available(Gpu, "i915-GVTg_V5_8"));

        Assert.Equal(Errno.ENOSPC, host.Create(Gpu, "i915-GVTg_V5_8", Guid.NewGuid()));

        Assert.Equal(Errno.None, host.Remove(created[2]));
        var again = host.CreateOk(Gpu, "i915-GVTg_V5_4");
        Assert.Equal("3\n", host.Read($"{HostFiles.DevicePath(again)}/intel_vgpu/vgpu_id"));
    }

    [Fact]
    public void TypeAttributes_V5_8_NameIsSysfsNameAndDescriptionIsExact()
    {
        var path = _host.TypePath(Gpu, "i915-GVTg_V5_8");

        Assert.Equal("GVTg_V5_8\n", _host.Read($"{path}/name"));
        Assert.Equal("vfio-pci\n", _host.Read($"{path}/device_api"));
        Assert.Equal("low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: 4\nresolution: 1024x768\nweight: 2\n", _host.Read($"{path}/description"));
        Assert.Equal("low_gm_size: 512MB\nhigh_gm_size: 2048MB\nfence: 4\nresolution: 1920x1200\nweight: 16\n", _host.Read($"{_host.TypePath(Gpu, "i915-GVTg_V5_1")}/description"));
    }

    [Fact]
    public void Types_SmallAperture_BigTypesAreNotRegistered()
    {
        // 512 MB less the host's 128 leaves 384: no room for V5_1's 512.
        var host = HostFiles.BootParents("""{ "driver": "i915", "apertureMB": 512 }""");

        Assert.Equal(["i915-GVTg_V5_8", "i915-GVTg_V5_4", "i915-GVTg_V5_2"], host.Core.Parents.Single().Types.Select(type => type.Id));
    }

    [Fact]
    public void VgpuId_Write_FailsWithEacces()
    {
        var path = $"{HostFiles.DevicePath(_host.CreateOk(Gpu, "i915-GVTg_V5_2"))}/intel_vgpu/vgpu_id";

        Assert.Equal("1\n", _host.Read(path));
        Assert.Equal(Errno.EACCES, _host.Write(path, "2"));
    }
}
