using Mdevkit.Management.Planning;

namespace Mdevkit.Management.Tests.Planning;

/// <summary>NVIDIA vgpu-device-manager's config format as its parser reads it, and each mistake named at its line and column.</summary>
public sealed class VgpuConfigFileTests
{
    [Fact]
    public void Parse_DevicesAllOrIndexes_FiltersAndCounts()
    {
        var file = VgpuConfigFile.Parse("""
            version: v1
            vgpu-configs:
              default:
                - devices: all
                  vgpu-devices:
                    "A40-2Q": 24
              custom:
                - devices: [0, 2]
                  device-filter: ["0x223510DE", "0x26B910DE"]
                  vgpu-devices: {"A40-12Q": 2, "A100-1-5C": 7, "DC-1-24QGFX": 1}
                - devices: [1]
                  vgpu-devices: {}
            """, "c.yaml");

        var all = Assert.Single(file.Select("default", "c.yaml"));
        var custom = file.Select("custom", "c.yaml");

        Assert.Null(all.Devices);
        Assert.Equal(24, all.VgpuDevices["A40-2Q"]);
        Assert.Equal([0, 2], custom[0].Devices);
        Assert.Equal([new DeviceFilter(0x2235, 0x10de), new DeviceFilter(0x26b9, 0x10de)], custom[0].Filters);
        Assert.Equal(3, custom[0].VgpuDevices.Count);
        Assert.Empty(custom[1].VgpuDevices);
        Assert.True(custom[0].Matches(2, 0x26b9, 0x10de));
        Assert.False(custom[0].Matches(1, 0x2235, 0x10de));
        Assert.False(custom[0].Matches(0, 0x1eb8, 0x10de));
    }

    [Theory]
    [InlineData("version: v1\nvgpu-configs:\n  a:\n    - devices: [0\n", "c.yaml:5:1: While parsing a flow sequence, did not find expected ',' or ']'.")]
    [InlineData("version: v2\n", "c.yaml:1:10: unknown version 'v2' (expected v1)")]
    [InlineData("vgpu-configs: {}\n", "c.yaml:1:1: missing required field 'version'")]
    [InlineData("version: v1\nvgpu-config: {}\n", "c.yaml:2:1: unexpected field 'vgpu-config' (expected version, vgpu-configs)")]
    [InlineData("version: v1\nvgpu-configs: {}\n", "c.yaml:2:15: vgpu-configs needs at least one config")]
    [InlineData("version: v1\nvgpu-configs:\n  a: []\n", "c.yaml:3:6: config 'a' needs at least one entry")]
    [InlineData("version: v1\nvgpu-configs:\n  a:\n    - vgpu-devices: {}\n", "c.yaml:4:7: missing required field 'devices'")]
    [InlineData("version: v1\nvgpu-configs:\n  a:\n    - devices: some\n      vgpu-devices: {}\n", "c.yaml:4:16: devices must be 'all' or a list of GPU indexes")]
    [InlineData("version: v1\nvgpu-configs:\n  a:\n    - devices: [x]\n      vgpu-devices: {}\n", "c.yaml:4:17: a GPU index must be a whole number")]
    [InlineData("version: v1\nvgpu-configs:\n  a:\n    - devices: all\n      vgpu-devices: {\"A40-2Q\": 0}\n", "c.yaml:5:32: the count of A40-2Q must be above 0")]
    [InlineData("version: v1\nvgpu-configs:\n  a:\n    - devices: all\n      vgpu-devices: {\"NVIDIA A40-2Q\": 1}\n", "c.yaml:5:22: 'NVIDIA A40-2Q' is not a vGPU type name like A40-12Q or A100-1-5C")]
    [InlineData("version: v1\nvgpu-configs:\n  a:\n    - devices: all\n      device-filter: \"0x2235\"\n      vgpu-devices: {}\n", "c.yaml:5:22: device-filter '0x2235' is not 0xDEVICEVENDOR, e.g. 0x223510DE (subsystem ids are not supported)")]
    public void Parse_Mistakes_SayFileLineColumnAndWhat(string text, string message)
    {
        var error = Assert.Throws<InvalidInputException>(() => VgpuConfigFile.Parse(text, "c.yaml"));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Select_OnlyConfigByDefault_SeveralNeedAName()
    {
        var one = VgpuConfigFile.Parse("version: v1\nvgpu-configs:\n  a:\n    - {devices: all, vgpu-devices: {}}\n", "c.yaml");
        var two = VgpuConfigFile.Parse("version: v1\nvgpu-configs:\n  a:\n    - {devices: all, vgpu-devices: {}}\n  b:\n    - {devices: all, vgpu-devices: {}}\n", "c.yaml");

        Assert.Single(one.Select(null, "c.yaml"));
        Assert.Equal("c.yaml: it has 2 vgpu-configs; choose one with --select (a, b)", Assert.Throws<InvalidInputException>(() => two.Select(null, "c.yaml")).Message);
        Assert.Equal("c.yaml: no vgpu-config named 'c'", Assert.Throws<InvalidInputException>(() => two.Select("c", "c.yaml")).Message);
    }
}
