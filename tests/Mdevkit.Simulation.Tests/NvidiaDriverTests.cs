using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class NvidiaDriverTests
{
    private const string Gpu = "0000:3e:00.0";
    private const string OtherGpu = "0000:3f:00.0";

    private static readonly string[] s_typeIds =
    [
        "nvidia-11", "nvidia-12", "nvidia-13", "nvidia-14", "nvidia-15", "nvidia-16", "nvidia-17",
        "nvidia-18", "nvidia-19", "nvidia-20", "nvidia-21", "nvidia-22", "nvidia-210", "nvidia-238",
    ];

    private static readonly uint[] s_maxInstances = [16, 16, 8, 8, 8, 4, 4, 4, 2, 2, 1, 1, 4, 8];

    private readonly SimulatedHost _host = HostFiles.Boot("nvidia");

    [Theory]
    [InlineData("nvidia-11", "GRID M60-0B", "num_heads=2, frl_config=45, framebuffer=512M, max_resolution=2560x1600, max_instance=16\n")]
    [InlineData("nvidia-12", "GRID M60-0Q", "num_heads=2, frl_config=60, framebuffer=512M, max_resolution=2560x1600, max_instance=16\n")]
    [InlineData("nvidia-13", "GRID M60-1A", "num_heads=1, frl_config=60, framebuffer=1024M, max_resolution=1280x1024, max_instance=8\n")]
    [InlineData("nvidia-14", "GRID M60-1B", "num_heads=4, frl_config=45, framebuffer=1024M, max_resolution=5120x2880, max_instance=8\n")]
    [InlineData("nvidia-15", "GRID M60-1Q", "num_heads=4, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=8\n")]
    [InlineData("nvidia-16", "GRID M60-2A", "num_heads=1, frl_config=60, framebuffer=2048M, max_resolution=1280x1024, max_instance=4\n")]
    [InlineData("nvidia-17", "GRID M60-2B", "num_heads=4, frl_config=45, framebuffer=2048M, max_resolution=5120x2880, max_instance=4\n")]
    [InlineData("nvidia-18", "GRID M60-2Q", "num_heads=4, frl_config=60, framebuffer=2048M, max_resolution=5120x2880, max_instance=4\n")]
    [InlineData("nvidia-19", "GRID M60-4A", "num_heads=1, frl_config=60, framebuffer=4096M, max_resolution=1280x1024, max_instance=2\n")]
    [InlineData("nvidia-20", "GRID M60-4Q", "num_heads=4, frl_config=60, framebuffer=4096M, max_resolution=5120x2880, max_instance=2\n")]
    [InlineData("nvidia-21", "GRID M60-8A", "num_heads=1, frl_config=60, framebuffer=8192M, max_resolution=1280x1024, max_instance=1\n")]
    [InlineData("nvidia-22", "GRID M60-8Q", "num_heads=4, frl_config=60, framebuffer=8192M, max_resolution=5120x2880, max_instance=1\n")]
    [InlineData("nvidia-210", "GRID M60-2B4", "num_heads=4, frl_config=45, framebuffer=2048M, max_resolution=5120x2880, max_instance=4\n")]
    [InlineData("nvidia-238", "GRID M60-1B4", "num_heads=4, frl_config=45, framebuffer=1024M, max_resolution=5120x2880, max_instance=8\n")]
    public void TypeAttributes_M60_MatchRealHost(string type, string name, string description)
    {
        var path = _host.TypePath(Gpu, type);
        Assert.Equal(name + "\n", _host.Read($"{path}/name"));
        Assert.Equal(description, _host.Read($"{path}/description"));
        Assert.Equal("vfio-pci\n", _host.Read($"{path}/device_api"));
    }

    [Fact]
    public void Types_M60_AreTheWholeTableInOrder()
    {
        Assert.True(_host.Core.TryGetParent(Gpu, out var parent));
        Assert.Equal(s_typeIds, parent.Types.Select(type => type.Id));
    }

    [Fact]
    public void Available_NoDevices_EveryTypeOffersMaxInstance()
    {
        Assert.Equal(s_maxInstances, _host.Availability(Gpu, s_typeIds));
    }

    [Fact]
    public void Create_EachUpToMax_OnlyThatTypeCountsDown()
    {
        var created = new List<Guid>();
        for (var used = 1u; used <= 4; used++)
        {
            created.Add(_host.CreateOk(Gpu, "nvidia-18"));

            var expected = s_typeIds.Select(type => type == "nvidia-18" ? 4 - used : 0u);
            Assert.Equal(expected, _host.Availability(Gpu, s_typeIds));
        }
        Assert.Equal(s_maxInstances, _host.Availability(OtherGpu, s_typeIds));

        for (var i = 0; i < created.Count; i++)
        {
            Assert.Equal(Errno.None, _host.Remove(created[i]));

            var left = (uint)(created.Count - i - 1);
            var expected = left == 0 ? s_maxInstances : s_typeIds.Select(type => type == "nvidia-18" ? 4 - left : 0u);
            Assert.Equal(expected, _host.Availability(Gpu, s_typeIds));
        }
    }

    [Fact]
    public void Create_BeyondMaxInstance_FailsWithEinval()
    {
        _host.CreateOk(Gpu, "nvidia-20");
        _host.CreateOk(Gpu, "nvidia-20");

        Assert.Equal(Errno.EINVAL, _host.Create(Gpu, "nvidia-20", Guid.NewGuid()));
        Assert.Equal(0u, _host.Available(Gpu, "nvidia-20"));
        Assert.Equal(2, _host.Core.Devices.Count);
    }

    [Fact]
    public void Create_OtherTypeThanInUse_FailsWithEinval()
    {
        _host.CreateOk(Gpu, "nvidia-11");

        Assert.Equal(Errno.EINVAL, _host.Create(Gpu, "nvidia-12", Guid.NewGuid()));
        Assert.Equal(15u, _host.Available(Gpu, "nvidia-11"));
        Assert.Equal(Errno.None, _host.Create(OtherGpu, "nvidia-12", Guid.NewGuid()));
    }

    [Fact]
    public void VgpuParams_Store_ReadsBackLastText()
    {
        var uuid = _host.CreateOk(Gpu, "nvidia-15");
        var path = $"{HostFiles.DevicePath(uuid)}/nvidia/vgpu_params";
        Assert.Equal("", _host.Read(path));

        Assert.Equal(Errno.None, _host.Write(path, "frame_rate_limiter=0\n"));
        Assert.Equal(Errno.None, _host.Write(path, "frame_rate_limiter=1\n"));

        Assert.Equal("frame_rate_limiter=1\n", _host.Read(path));
    }

    [Fact]
    public void HideUnavailableTypes_InUse_OnlyUsedTypeRemainsUntilLastRemove()
    {
        var host = HostFiles.BootParents("""{ "driver": "nvidia", "hideUnavailableTypes": true }""");
        var visible = () => host.Core.Parents.Single().Types.Where(type => type.Directory is not null).Select(type => type.Id);
        Assert.Equal(s_typeIds, visible());

        var uuid = host.CreateOk(Gpu, "nvidia-22");

        Assert.Equal(["nvidia-22"], visible());
        Assert.Equal(0u, host.Available(Gpu, "nvidia-22"));
        Assert.False(host.Exists(host.TypePath(Gpu, "nvidia-21")));
        Assert.Equal(Errno.ENOENT, host.Create(Gpu, "nvidia-21", Guid.NewGuid()));

        Assert.Equal(Errno.None, host.Remove(uuid));
        Assert.Equal(s_typeIds, visible());
        Assert.Equal(s_maxInstances, host.Availability(Gpu, s_typeIds));
    }

    [Fact]
    public void HideUnavailableTypes_Unset_UnavailableTypesStayWithZero()
    {
        _host.CreateOk(Gpu, "nvidia-22");

        Assert.True(_host.Exists(_host.TypePath(Gpu, "nvidia-21")));
        Assert.Equal(0u, _host.Available(Gpu, "nvidia-21"));
    }
}
