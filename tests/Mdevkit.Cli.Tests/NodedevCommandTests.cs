using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>nodedev and hostdev through the real binary, on a simulated host with every vendor written out as files.</summary>
public sealed class NodedevCommandTests : IDisposable
{
    private const string Vgpu = "00000004-0000-4000-8000-000000000004";
    private const string Uuid = "9c4954d2-fa39-4973-9d66-d61c6c4d0100";
    private readonly TempRoot _root = new(nameof(NodedevCommandTests));

    public NodedevCommandTests()
    {
        SimulatedTree.Boot("default",
            ("mtty", "mtty-1", "00000001-0000-4000-8000-000000000001"), ("mdpy", "mdpy-hd", "00000002-0000-4000-8000-000000000002"),
            ("mbochs", "mbochs-large", "00000003-0000-4000-8000-000000000003"), ("0000:3e:00.0", "nvidia-18", Vgpu),
            ("0000:00:02.0", "i915-GVTg_V5_8", "00000005-0000-4000-8000-000000000005"),
            ("0.0.0124", "vfio_ccw-io", "00000006-0000-4000-8000-000000000006"),
            ("matrix", "vfio_ap-passthrough", "00000007-0000-4000-8000-000000000007")).WriteTo(_root);
    }

    public void Dispose() => _root.Dispose();

    private CommandResult Mdevkit(params string[] args) =>
        CommandRunner.Run(Path.Join(AppContext.BaseDirectory, "mdevkit"), [.. args, "--root", _root.Path]);

    [Fact]
    public void List_CapMdevTypes_ListsTheParentsLibvirtKnows()
    {
        Assert.Equal(new CommandResult(0, "ap_matrix\ncss_0_0_0123\ncss_0_0_0124\npci_0000_00_02_0\npci_0000_3e_00_0\npci_0000_3f_00_0\n", ""),
            Mdevkit("nodedev", "list", "--cap", "mdev_types"));
    }

    [Fact]
    public void DumpXml_EveryListedDevice_ValidatesWithXmllint()
    {
        var list = Mdevkit("nodedev", "list", "--all");
        var names = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(13, names.Length);
        Assert.All(names, name =>
        {
            var dump = Mdevkit("nodedev", "dumpxml", name);
            Assert.Equal(0, dump.ExitCode);
            Assert.Null(Xmllint.Check(dump.Output, "nodedev.rng"));
        });
    }

    [Fact]
    public void Hostdev_Vgpu_ValidatesInADomain()
    {
        var hostdev = Mdevkit("hostdev", Vgpu);

        Assert.Equal(0, hostdev.ExitCode);
        Assert.StartsWith("<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='on'>\n", hostdev.Output, StringComparison.Ordinal);
        Assert.Null(Xmllint.Check(Xmllint.InDomain(hostdev.Output), "domain.rng"));
    }

    [Fact]
    public void Define_ThenDumpXmlInactive_RoundTripsTheDefinition()
    {
        var file = WriteXml($"<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><type id='i915-GVTg_V5_4'/><uuid>{Uuid}</uuid><attr name='a' value='1'/><attr name='b' value='2'/></capability></device>");

        var define = Mdevkit("nodedev", "define", file);
        var dump = Mdevkit("nodedev", "dumpxml", "--inactive", $"mdev_{Uuid.Replace('-', '_')}_0000_00_02_0");

        Assert.Equal(new CommandResult(0, $"Node device 'mdev_{Uuid.Replace('-', '_')}_0000_00_02_0' defined from '{file}'\n", ""), define);
        Assert.Equal("""{"mdev_type":"i915-GVTg_V5_4","start":"manual","attrs":[{"a":"1"},{"b":"2"}]}""",
            System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(_root.Join($"etc/mdevctl.d/0000:00:02.0/{Uuid}")))!.ToJsonString());
        Assert.Contains("    <attr name='a' value='1'/>\n    <attr name='b' value='2'/>\n  </capability>\n", dump.Output, StringComparison.Ordinal);
        Assert.Null(Xmllint.Check(dump.Output, "nodedev.rng"));
    }

    [Fact]
    public void Create_WritesTheUuidToTheTypesCreateFile()
    {
        var file = WriteXml($"<device><parent>css_0_0_0123</parent><capability type='mdev'><type id='vfio_ccw-io'/><uuid>{Uuid}</uuid></capability></device>");

        var create = Mdevkit("nodedev", "create", file);

        Assert.Equal(new CommandResult(0, $"Node device mdev_{Uuid.Replace('-', '_')}_0_0_0123 created from {file}\n", ""), create);
        Assert.Equal(Uuid, File.ReadAllText(_root.Join("sys/devices/css0/0.0.0123/mdev_supported_types/vfio_ccw-io/create")));
    }

    [Theory]
    [InlineData("<device><parent>pci_0000_00_02_0</parent><capability type='mdev'>", "error: XML error: the document is not well-formed XML (line 1, column 66)\n")]
    [InlineData("<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><uuid>x</uuid><type id='t'/></capability></device>", "error: XML error: 'x' is not a UUID\n")]
    [InlineData("<device><parent>pci_0000_99_00_0</parent><capability type='mdev'><type id='t'/></capability></device>", "error: Node device not found: no parent device with matching name 'pci_0000_99_00_0'\n")]
    public void Define_BadXml_ExplainsFailsAndWritesNothing(string xml, string reason)
    {
        var file = WriteXml(xml);

        var define = Mdevkit("nodedev", "define", file);

        Assert.Equal(new CommandResult(1, "", $"error: Failed to define node device from '{file}'\n{reason}"), define);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root.Join("etc/mdevctl.d")));
    }

    [Fact]
    public void Create_NoInstanceLeft_ShowsMdevctlsReason()
    {
        var file = WriteXml("<device><parent>css_0_0_0124</parent><capability type='mdev'><type id='vfio_ccw-io'/></capability></device>");

        var create = Mdevkit("nodedev", "create", file);

        Assert.Equal(new CommandResult(1, "", $"error: Failed to create node device from {file}\nerror: No available instances of vfio_ccw-io on 0.0.0124\n"), create);
    }

    private string WriteXml(string xml)
    {
        var path = _root.Join("device.xml");
        File.WriteAllText(path, xml);
        return path;
    }
}
