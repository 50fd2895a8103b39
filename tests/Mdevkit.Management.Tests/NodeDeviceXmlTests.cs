using Mdevkit.Management.Libvirt;
using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>
/// The libvirt view of a simulated host with every vendor: a device running on each parent, one more only
/// defined. Every document is checked by xmllint against libvirt's schemas, a few byte for byte.
/// </summary>
public sealed class NodeDeviceXmlTests : IDisposable
{
    private const string Mtty = "00000001-0000-4000-8000-000000000001";
    private const string Mdpy = "00000002-0000-4000-8000-000000000002";
    private const string Mbochs = "00000003-0000-4000-8000-000000000003";
    private const string Nvidia = "00000004-0000-4000-8000-000000000004";
    private const string Gvt = "00000005-0000-4000-8000-000000000005";
    private const string Ccw = "00000006-0000-4000-8000-000000000006";
    private const string Ap = "00000007-0000-4000-8000-000000000007";
    private const string DefinedOnly = "9c4954d2-fa39-4973-9d66-d61c6c4d0100";
    private static readonly string[] s_running = [Mtty, Mdpy, Mbochs, Nvidia, Gvt, Ccw, Ap];
    private readonly TempRoot _root = new(nameof(NodeDeviceXmlTests));
    private readonly MdevctlEnvironment _environment;
    private readonly DeviceInventory _inventory;
    private readonly NodeDevices _nodeDevices;

    public NodeDeviceXmlTests()
    {
        SimulatedTree.Boot("default",
            ("mtty", "mtty-2", Mtty), ("mdpy", "mdpy-vga", Mdpy), ("mbochs", "mbochs-small", Mbochs),
            ("0000:3e:00.0", "nvidia-11", Nvidia), ("0000:00:02.0", "i915-GVTg_V5_4", Gvt),
            ("0.0.0123", "vfio_ccw-io", Ccw), ("matrix", "vfio_ap-passthrough", Ap)).WriteTo(_root);
        _root.File($"etc/mdevctl.d/matrix/{DefinedOnly}",
            """{"mdev_type":"vfio_ap-passthrough","start":"auto","attrs":[{"assign_adapter":"5"},{"assign_domain":"0x47"},{"odd":"a'b<c>&\"d"}]}""");
        _environment = new MdevctlEnvironment(_root.Path);
        var definitions = new DefinitionStore(_environment);
        _inventory = new DeviceInventory(_environment, definitions, new Callouts(_environment, TextWriter.Null));
        _nodeDevices = new NodeDevices(_environment, _inventory);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void List_All_NamesParentsAsLibvirtAndEveryMdevWithItsParentAddress()
    {
        var names = _nodeDevices.List(active: true, inactive: true).Select(device => device.Name);

        Assert.Equal(
        [
            "ap_matrix", "css_0_0_0123", "css_0_0_0124",
            "mdev_00000001_0000_4000_8000_000000000001_mtty",
            "mdev_00000002_0000_4000_8000_000000000002_mdpy",
            "mdev_00000003_0000_4000_8000_000000000003_mbochs",
            "mdev_00000004_0000_4000_8000_000000000004_0000_3e_00_0",
            "mdev_00000005_0000_4000_8000_000000000005_0000_00_02_0",
            "mdev_00000006_0000_4000_8000_000000000006_0_0_0123",
            "mdev_00000007_0000_4000_8000_000000000007_matrix",
            "mdev_9c4954d2_fa39_4973_9d66_d61c6c4d0100_matrix",
            "pci_0000_00_02_0", "pci_0000_3e_00_0", "pci_0000_3f_00_0",
        ], names);
    }

    [Fact]
    public void EveryNodeDevice_ValidatesAgainstNodedevSchema_ActiveAndInactive()
    {
        var documents = _nodeDevices.List(active: true, inactive: true)
            .SelectMany(device => new[] { device, _nodeDevices.Find(device.Name, inactive: true) })
            .Select(device => LibvirtXml.Format(device.Xml))
            .ToList();

        Assert.Equal(28, documents.Count);
        Assert.All(documents, xml => Assert.Null(Xmllint.Check(xml, "nodedev.rng")));
    }

    [Fact]
    public void EveryHostdev_ValidatesInADomain()
    {
        var documents = s_running.Append(DefinedOnly)
            .Select(uuid => LibvirtXml.Format(MdevHostdev.For(Guid.Parse(uuid), _environment, _inventory)))
            .ToList();

        Assert.All(documents, hostdev => Assert.Null(Xmllint.Check(Xmllint.InDomain(hostdev), "domain.rng")));
    }

    [Fact]
    public void DumpXml_GvtParent_IsLibvirtsDocument()
    {
        var xml = LibvirtXml.Format(_nodeDevices.Find("pci_0000_00_02_0").Xml);

        Assert.Equal("""
            <device>
              <name>pci_0000_00_02_0</name>
              <path>/sys/devices/pci0000:00/0000:00:02.0</path>
              <parent>computer</parent>
              <driver>
                <name>i915</name>
              </driver>
              <capability type='pci'>
                <class>0x030000</class>
                <domain>0</domain>
                <bus>0</bus>
                <slot>2</slot>
                <function>0</function>
                <product id='0x3e92'/>
                <vendor id='0x8086'/>
                <capability type='mdev_types'>
                  <type id='i915-GVTg_V5_1'>
                    <name>GVTg_V5_1</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>1</availableInstances>
                  </type>
                  <type id='i915-GVTg_V5_2'>
                    <name>GVTg_V5_2</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>2</availableInstances>
                  </type>
                  <type id='i915-GVTg_V5_4'>
                    <name>GVTg_V5_4</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>4</availableInstances>
                  </type>
                  <type id='i915-GVTg_V5_8'>
                    <name>GVTg_V5_8</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>5</availableInstances>
                  </type>
                </capability>
                <iommuGroup number='0'>
                  <address domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
                </iommuGroup>
              </capability>
            </device>

            """, xml);
    }

    [Fact]
    public void DumpXml_RunningVgpu_HasPathDriverAndGroup()
    {
        var xml = LibvirtXml.Format(_nodeDevices.Find("mdev_00000004_0000_4000_8000_000000000004_0000_3e_00_0").Xml);

        Assert.Equal($"""
            <device>
              <name>mdev_00000004_0000_4000_8000_000000000004_0000_3e_00_0</name>
              <path>/sys/devices/pci0000:00/0000:3e:00.0/{Nvidia}</path>
              <parent>pci_0000_3e_00_0</parent>
              <driver>
                <name>nvidia-vgpu-vfio</name>
              </driver>
              <capability type='mdev'>
                <type id='nvidia-11'/>
                <uuid>{Nvidia}</uuid>
                <parent_addr>0000:3e:00.0</parent_addr>
                <iommuGroup number='6'/>
              </capability>
            </device>

            """, xml);
    }

    [Fact]
    public void DumpXml_DefinedOnly_AttributesInOrderAndEscaped()
    {
        var xml = LibvirtXml.Format(_nodeDevices.Find("mdev_9c4954d2_fa39_4973_9d66_d61c6c4d0100_matrix").Xml);

        Assert.Equal($"""
            <device>
              <name>mdev_9c4954d2_fa39_4973_9d66_d61c6c4d0100_matrix</name>
              <parent>ap_matrix</parent>
              <capability type='mdev'>
                <type id='vfio_ap-passthrough'/>
                <uuid>{DefinedOnly}</uuid>
                <parent_addr>matrix</parent_addr>
                <iommuGroup number='0'/>
                <attr name='assign_adapter' value='5'/>
                <attr name='assign_domain' value='0x47'/>
                <attr name='odd' value='a&apos;b&lt;c&gt;&amp;&quot;d'/>
              </capability>
            </device>

            """, xml);
    }

    [Theory]
    [InlineData(Nvidia, "vfio-pci' display='on")]
    [InlineData(Gvt, "vfio-pci' display='on")]
    [InlineData(Mdpy, "vfio-pci' display='on")]
    [InlineData(Mbochs, "vfio-pci' display='on")]
    [InlineData(Mtty, "vfio-pci")]
    [InlineData(Ccw, "vfio-ccw")]
    [InlineData(Ap, "vfio-ap")]
    [InlineData(DefinedOnly, "vfio-ap")]
    public void Hostdev_ModelFromDeviceApi_DisplayOnlyForGraphics(string uuid, string model)
    {
        Assert.Equal($"""
            <hostdev mode='subsystem' type='mdev' managed='no' model='{model}'>
              <source>
                <address uuid='{uuid}'/>
              </source>
            </hostdev>

            """, LibvirtXml.Format(MdevHostdev.For(Guid.Parse(uuid), _environment, _inventory)));
    }

    [Fact]
    public void Hostdev_UnknownDevice_Explains()
    {
        var error = Assert.Throws<NodeDeviceException>(() => MdevHostdev.For(Guid.Parse("12345678-1234-1234-1234-123456789abc"), _environment, _inventory));

        Assert.Equal("no mediated device 12345678-1234-1234-1234-123456789abc is running or defined", error.Message);
    }
}
