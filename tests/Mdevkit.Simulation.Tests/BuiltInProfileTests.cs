using Mdevkit.Simulation.Profiles;

namespace Mdevkit.Simulation.Tests;

public sealed class BuiltInProfileTests
{
    [Fact]
    public void BuiltInNames_All_AreTheShippedProfiles()
    {
        Assert.Equal(["default", "gvt", "large", "nvidia", "nvidia-ada", "nvidia-ampere", "nvidia-mixed", "s390", "samples"], HostProfile.BuiltInNames);
    }

    [Theory]
    [InlineData("default", 9)]
    [InlineData("samples", 3)]
    [InlineData("nvidia", 2)]
    [InlineData("gvt", 1)]
    [InlineData("s390", 5)]
    [InlineData("large", 64)]
    public void Load_BuiltIn_BootsEveryParent(string name, int parents)
    {
        var profile = HostProfile.Load(name);

        var host = SimulatedHost.Boot(profile);

        Assert.Equal(name, profile.Name);
        Assert.NotEmpty(profile.Description);
        Assert.DoesNotContain('\n', profile.Description);
        Assert.Equal(parents, host.Core.Parents.Count);
        Assert.All(host.Core.Parents, parent => Assert.True(host.Exists($"sys/class/mdev_bus/{parent.Name}")));
    }

    [Fact]
    public void Load_Default_HasEveryDriver()
    {
        var host = HostFiles.Boot("default");

        Assert.Equal(
            ["intel_vgpu_mdev", "mbochs", "mdpy", "mtty", "nvidia-vgpu-vfio", "vfio_ap_mdev", "vfio_ccw_mdev"],
            host.Core.Parents.Select(parent => parent.Driver.Name).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Load_Large_PutsGpusOnConsecutiveBuses()
    {
        var host = HostFiles.Boot("large");

        Assert.Equal("0000:01:00.0", host.Core.Parents[0].Name);
        Assert.Equal("0000:40:00.0", host.Core.Parents[^1].Name);
        Assert.Equal(64 * 14, host.Offer().Count);
    }
}
