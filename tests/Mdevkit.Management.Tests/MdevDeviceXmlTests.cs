using Mdevkit.Management.Libvirt;

namespace Mdevkit.Management.Tests;

public sealed class MdevDeviceXmlTests
{
    [Fact]
    public void Parse_LibvirtAutostartExample_TakesEverything()
    {
        var device = MdevDeviceXml.Parse("""
            <device>
              <name>mdev_9c4954d2_fa39_4973_9d66_d61c6c4d0100</name>
              <parent>pci_0000_00_02_0</parent>
              <capability type='mdev'>
                <type id='i915-GVTg_V5_8'/>
                <attr name='example-attribute' value='attribute-value'/>
                <attr name='second' value=''/>
                <start type='auto'/>
                <uuid>9C4954D2-FA39-4973-9D66-D61C6C4D0100</uuid>
              </capability>
            </device>
            """);

        Assert.Equal("pci_0000_00_02_0", device.Parent);
        Assert.Equal(Guid.Parse("9c4954d2-fa39-4973-9d66-d61c6c4d0100"), device.Uuid);
        Assert.Equal(new DeviceConfig("i915-GVTg_V5_8", true, [new("example-attribute", "attribute-value"), new("second", "")]), device.Config);
    }

    [Theory]
    [InlineData("<device><parent>x", "XML error: the document is not well-formed XML (line 1, column 18)")]
    [InlineData("<domain/>", "XML error: expected root element <device>, found <domain>")]
    [InlineData("<device><capability type='mdev'><type id='t'/></capability></device>", "XML error: an mdev needs a <parent> naming its parent node device")]
    [InlineData("<device><parent>p</parent><capability type='pci'/></device>", "XML error: no <capability type='mdev'>; only mediated devices can be defined or created")]
    [InlineData("<device><parent>p</parent><capability type='mdev'/></device>", "XML error: <capability type='mdev'> needs <type id='...'/>")]
    [InlineData("<device><parent>p</parent><capability type='mdev'><type id='t'/><uuid>nope</uuid></capability></device>", "XML error: 'nope' is not a UUID")]
    [InlineData("<device><parent>p</parent><capability type='mdev'><type id='t'/><attr name='a'/></capability></device>", "XML error: every <attr> needs a name and a value")]
    [InlineData("<device><parent>p</parent><capability type='mdev'><type id='t'/><start type='never'/></capability></device>", "XML error: unknown start type 'never' (auto or manual)")]
    public void Parse_BadDocument_SaysWhatIsWrong(string xml, string message)
    {
        Assert.Equal(message, Assert.Throws<NodeDeviceException>(() => MdevDeviceXml.Parse(xml)).Message);
    }

    [Theory]
    [InlineData("pci", "0000:3e:00.0", "pci_0000_3e_00_0")]
    [InlineData("css", "0.0.0123", "css_0_0_0123")]
    [InlineData("matrix", "matrix", "ap_matrix")]
    [InlineData("mtty", "mtty", null)]
    [InlineData(null, "0000:3e:00.0", null)]
    public void NodeDeviceName_ForDevice_FollowsLibvirtsUdevNaming(string? subsystem, string sysfsName, string? expected)
    {
        Assert.Equal(expected, NodeDeviceNames.ForDevice(subsystem, sysfsName));
    }

    [Fact]
    public void NodeDeviceName_ForMdev_AppendsSanitizedParentAddress()
    {
        Assert.Equal("mdev_cc000052_9b13_9b13_9b13_cc23009b1326_0_0_0052",
            NodeDeviceNames.ForMdev(Guid.Parse("cc000052-9b13-9b13-9b13-cc23009b1326"), "0.0.0052"));
    }
}
