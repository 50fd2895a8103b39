using Mdevkit.Management.Reconcile;

namespace Mdevkit.Management.Tests.Reconcile;

/// <summary>Declarations as written: what they declare, and where a bad one is wrong.</summary>
public sealed class HostDeclarationTests
{
    private const string Uuid = "7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c00d";

    [Fact]
    public void Parse_DevicesAndCounts_AsDeclared()
    {
        var declaration = HostDeclaration.Parse($$"""
            {
              "devices": [{ "uuid": "{{Uuid}}", "parent": "0000:3e:00.0", "mdev_type": "nvidia-11", "attrs": [{ "a": "1" }, { "b": "2" }] }],
              "counts": [{ "parent": "mdpy", "mdev_type": "mdpy-vga", "count": 2 }, { "mdev_type": "mtty-1", "count": 0 }]
            }
            """, "host.json");

        var device = Assert.Single(declaration.Devices);
        Assert.Equal((Guid.Parse(Uuid), "0000:3e:00.0", "nvidia-11"), (device.Uuid, device.Parent, device.Type));
        Assert.Equal([new("a", "1"), new("b", "2")], device.Attributes);
        Assert.Equal([new DeclaredCount("mdpy", "mdpy-vga", 2), new DeclaredCount(null, "mtty-1", 0)], declaration.Counts);
        Assert.Equal(["mdpy/mdpy-vga", "*/mtty-1"], declaration.Counts.Select(count => count.Key));
    }

    [Fact]
    public void Parse_EmptyObject_DeclaresNothing()
    {
        var declaration = HostDeclaration.Parse("{}", "host.json");

        Assert.Equal((0, 0), (declaration.Devices.Count, declaration.Counts.Count));
        Assert.Null(declaration.VgpuConfig);
    }

    [Theory]
    [InlineData("""{ "vgpu_config": { "file": "/etc/nvidia/vgpu-config.yaml", "select": "A40-12Q" } }""", "/etc/nvidia/vgpu-config.yaml", "A40-12Q")]
    [InlineData("""{ "vgpu_config": { "file": "vgpu.yaml" }, "counts": [] }""", "vgpu.yaml", null)]
    public void Parse_VgpuConfig_ByFileAndName(string text, string file, string? select)
    {
        Assert.Equal(new DeclaredVgpuConfig(file, select), HostDeclaration.Parse(text, "host.json").VgpuConfig);
    }

    [Theory]
    [InlineData("{\n  \"counts\": [\n    {\"mdev_type\": \"mtty-1\" \"count\": 2}\n  ]\n}", "3:28: expected `,` or `}`")]
    [InlineData("{\"counts\": [\n", "2:0: EOF while parsing a list")]
    [InlineData("[]", "1:1: unexpected field or value at $")]
    [InlineData("{\"counts\": [{\"mdev_type\": \"mtty-1\", \"cuont\": 2}]}", "1:46: unexpected field or value at $.counts[0].cuont")]
    [InlineData("{\"counts\": [\n    {\"mdev_type\": \"mtty-1\", \"count\": -1}]}", "2:38: a count is 0 or more")]
    [InlineData("{\"counts\": [{\"mdev_type\": \"mtty-1\", \"count\": 1},\n  {\"mdev_type\": \"mtty-2\"}]}", "2:3: \"count\" is missing")]
    [InlineData("{\"counts\": [{\"mdev_type\": \"mtty-1\", \"count\": 1},\n  {\"mdev_type\": \"mtty-1\", \"count\": 2}]}", "2:3: */mtty-1 is counted twice")]
    [InlineData("{\"counts\": [{\"parent\": \"../etc\", \"mdev_type\": \"mtty-1\", \"count\": 1}]}", "1:24: invalid parent device name '../etc'")]
    [InlineData("{\"counts\": [null]}", "1:13: a count is an object with \"mdev_type\" and \"count\"")]
    [InlineData("{\"devices\": [{\"uuid\": \"" + Uuid + "\", \"parent\": \"mtty\", \"mdev_type\": \"mtty-1\", \"attrs\": [{\"a\": null}]}]}",
        "1:114: an attribute is one object with one name and its value, as in an mdevctl definition")]
    [InlineData("{\"devices\": [{\"uuid\": \"nope\", \"parent\": \"mtty\", \"mdev_type\": \"mtty-1\"}]}", "1:23: not a UUID")]
    [InlineData("{\"devices\": [{\"uuid\": \"" + Uuid + "\", \"mdev_type\": \"mtty-1\"}]}", "1:14: \"parent\" is missing")]
    [InlineData("{\"devices\": [{\"uuid\": \"" + Uuid + "\", \"parent\": \"mtty\", \"mdev_type\": \"mtty-1\", \"attrs\": [{\"a\": \"1\", \"b\": \"2\"}]}]}",
        "1:114: an attribute is one object with one name and its value, as in an mdevctl definition")]
    [InlineData("{\"vgpu_config\": {\"select\": \"A40-12Q\"}}", "1:17: \"file\" is missing")]
    [InlineData("{\"vgpu_config\": {\"file\": \"v.yaml\",\n  \"select\": \"\"}}", "2:13: a vgpu-config's name is not empty")]
    [InlineData("{\"vgpu_config\": {\"file\": \"v.yaml\", \"name\": \"x\"}}", "1:44: unexpected field or value at $.vgpu_config.name")]
    public void Parse_NotADeclaration_SaysFileLineColumnAndWhat(string text, string error)
    {
        var thrown = Assert.Throws<InvalidInputException>(() => HostDeclaration.Parse(text, "/etc/mdevkit/host.json"));

        Assert.Equal($"/etc/mdevkit/host.json:{error}", thrown.Message);
    }

    [Fact]
    public void Parse_SameUuidTwice_IsRefusedAtTheSecond()
    {
        var device = $"{{\"uuid\": \"{Uuid}\", \"parent\": \"mtty\", \"mdev_type\": \"mtty-1\"}}";

        var thrown = Assert.Throws<InvalidInputException>(() => HostDeclaration.Parse($"{{\"devices\": [{device},\n{device}]}}", "h"));

        Assert.Equal($"h:2:10: {Uuid} is declared twice", thrown.Message);
    }
}
