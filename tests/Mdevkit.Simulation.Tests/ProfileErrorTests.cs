using Mdevkit.Simulation.Profiles;

namespace Mdevkit.Simulation.Tests;

public sealed class ProfileErrorTests
{
    [Theory]
    [InlineData("""{ "driver": "amdgpu" }""", "parents[0] (amdgpu): unknown driver 'amdgpu' (known: mtty, mdpy, mbochs, nvidia, i915, vfio_ccw, vfio_ap)")]
    [InlineData("""{ "driver": "mtty" }, { "driver": "nvidia", "model": "P40" }""", "parents[1] (nvidia): unknown model 'P40' (known: M60, A40, L40S)")]
    [InlineData("""{ "driver": "nvidia", "ports": 4 }""", "'ports' is not a parameter of this driver (it takes: model, hideUnavailableTypes)")]
    [InlineData("""{ "driver": "i915", "model": "M60" }""", "'model' is not a parameter of this driver (it takes: apertureMB, hiddenMB, fences)")]
    [InlineData("""{ "driver": "vfio_ccw", "adapters": "5" }""", "'adapters' is not a parameter of this driver (it takes: operational)")]
    [InlineData("""{ "driver": "vfio_ap", "hideUnavailableTypes": true }""", "'hideUnavailableTypes' is not a parameter of this driver (it takes: adapters, domains)")]
    [InlineData("""{ "driver": "nvidia" }, { "driver": "nvidia", "address": "0000:3E:00.0" }""", "parent '0000:3e:00.0' appears more than once")]
    [InlineData("""{ "driver": "nvidia", "repeat": 3 }, { "driver": "i915", "address": "0000:40:00.0" }""", "parent '0000:40:00.0' appears more than once")]
    [InlineData("""{ "driver": "vfio_ccw", "repeat": 2 }, { "driver": "vfio_ccw", "address": "0.0.0124" }""", "parent '0.0.0124' appears more than once")]
    [InlineData("""{ "driver": "vfio_ap" }, { "driver": "vfio_ap" }""", "parent 'matrix' appears more than once")]
    [InlineData("""{ "driver": "nvidia", "address": "0000:3e:00" }""", "'0000:3e:00' is not a PCI address like 0000:3e:00.0")]
    [InlineData("""{ "driver": "i915", "address": "0000:00:20.0" }""", "'0000:00:20.0' is not a PCI address")]
    [InlineData("""{ "driver": "i915", "address": "0.0.0123" }""", "'0.0.0123' is not a PCI address")]
    [InlineData("""{ "driver": "vfio_ccw", "address": "0000:3e:00.0" }""", "'0000:3e:00.0' is not a subchannel id like 0.0.0123")]
    [InlineData("""{ "driver": "vfio_ccw", "address": "0.4.0123" }""", "'0.4.0123' is not a subchannel id")]
    [InlineData("""{ "driver": "vfio_ap", "address": "0.0.0123" }""", "the AP matrix is a single device")]
    [InlineData("""{ "driver": "vfio_ap", "repeat": 2 }""", "the AP matrix is a single device")]
    [InlineData("""{ "driver": "vfio_ap", "adapters": "5-300" }""", "'adapters': '5-300' is not a number or range")]
    [InlineData("""{ "driver": "vfio_ap", "domains": "9-8" }""", "'domains': the range '9-8' runs backwards")]
    [InlineData("""{ "driver": "i915", "apertureMB": 128 }""", "'apertureMB' must be more than the host's own 128, not 128")]
    [InlineData("""{ "driver": "i915", "hiddenMB": 0 }""", "'hiddenMB' must be between 1 and")]
    [InlineData("""{ "driver": "i915", "fences": 4 }""", "'fences' must be more than the host's own 4, not 4")]
    [InlineData("""{ "driver": "nvidia", "repeat": 0 }""", "'repeat' must be between 1 and 4096, not 0")]
    public void Parse_BadEntry_ThrowsWithWhereAndWhy(string parents, string message)
    {
        var e = Assert.Throws<ProfileException>(() => HostFiles.Profile($$"""{ "name": "bad", "parents": [ {{parents}} ] }"""));

        Assert.StartsWith("test profile: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"name\": \"p\", \"parents\": [ { \"driver\": \"mtty\" },\n      { \"driver\": \"nvidia\", \"adress\": \"0000:3e:00.0\" } ] }",
        "test profile: parents[1]: unknown field 'adress' (known: driver, address, repeat, ports, maxInstances, memoryMB, model, hideUnavailableTypes, apertureMB, hiddenMB, fences, operational, adapters, domains, peerLinks, hotplug) at line 2 column 38")]
    [InlineData("""{ "name": "p", "parents": [ { "driver": "mtty", "repeat": "2" } ] }""", "test profile: parents[0]: 'repeat' must be a number, not a string at line 1 column 62")]
    [InlineData("""{ "name": "p", "parents": [ { "repeat": 2 } ] }""", "test profile: parents[0]: missing field 'driver' at line 1 column 44")]
    [InlineData("""{ "name": "p", "parentz": [] }""", "test profile: unknown field 'parentz' (known: name, description, parents, removeWhileOpen) at line 1 column 26")]
    [InlineData("{ \"name\": \"p\", \"parents\": [ ", "test profile: not valid JSON at line 1 column 29")]
    public void Parse_WrongShape_NamesEntryFieldAndPosition(string json, string message)
    {
        Assert.Equal(message, Assert.Throws<ProfileException>(() => HostFiles.Profile(json)).Message);
    }

    [Fact]
    public void Load_MissingFile_SaysSoWithoutResourceKeys()
    {
        var path = Path.Join(Path.GetTempPath(), $"#{nameof(ProfileErrorTests)}_{Guid.NewGuid():N}.json");

        Assert.Equal($"cannot read profile file '{path}': No such file or directory", Assert.Throws<ProfileException>(() => HostProfile.Load(path)).Message);
    }

    [Fact]
    public void Parse_PciAddressInCapitals_NamesParentInLowercase()
    {
        var host = HostFiles.BootParents("""{ "driver": "nvidia", "address": "0000:AF:00.0" }""");

        Assert.Equal("0000:af:00.0", host.Core.Parents.Single().Name);
        Assert.True(host.Exists("sys/devices/pci0000:00/0000:af:00.0/mdev_supported_types/nvidia-11"));
    }

    [Fact]
    public void Parse_PciDomain_PutsParentUnderItsRootComplex()
    {
        var host = HostFiles.BootParents("""{ "driver": "i915", "address": "0001:00:02.0" }""");

        Assert.Equal("../../devices/pci0001:00/0001:00:02.0", host.LinkText("sys/class/mdev_bus/0001:00:02.0"));
    }
}
