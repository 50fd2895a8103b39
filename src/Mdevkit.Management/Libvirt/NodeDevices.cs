using System.Globalization;
using System.Xml.Linq;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Libvirt;

/// <summary>A node device as libvirt lists it.</summary>
/// <param name="Name">Its libvirt name.</param>
/// <param name="Capabilities">The capability names <c>--cap</c> matches (<c>pci</c>, <c>css</c>, <c>ap_matrix</c>, <c>mdev_types</c>, <c>mdev</c>).</param>
/// <param name="IsActive">Whether it exists now; a defined mdev that is not started is inactive.</param>
/// <param name="Xml">Its <c>&lt;device&gt;</c> document.</param>
public sealed record NodeDevice(string Name, IReadOnlyList<string> Capabilities, bool IsActive, XElement Xml);

/// <summary>A node-device request that cannot be carried out; the message says why.</summary>
public sealed class NodeDeviceException(string message) : MdevctlException(message);

/// <summary>
/// The host's mediated devices as libvirt's node-device driver (9.x, Debian 12) shows them: the parents it
/// knows (PCI functions, s390 subchannels, the AP matrix) with their <c>mdev_types</c>, SR-IOV physical and
/// virtual functions (where NVIDIA's later GPUs keep their vGPUs), and every mdev, running or only defined. The kernel's sample drivers are on no bus libvirt 9 knows, so their parents are
/// not node devices and their mdevs hang off <c>computer</c>, as under libvirt.
/// </summary>
public sealed class NodeDevices(MdevctlEnvironment environment, DeviceInventory inventory)
{
    private SysfsRoot Sysfs => environment.Sysfs;

    /// <summary>The capability names <c>--cap</c> accepts.</summary>
    public static IReadOnlyList<string> CapabilityNames { get; } = ["pci", "css", "ap_matrix", "mdev_types", "mdev"];

    /// <summary>The node devices, sorted by name as virsh sorts them.</summary>
    /// <param name="active">Include devices that exist now.</param>
    /// <param name="inactive">Include defined mdevs that are not started.</param>
    public IReadOnlyList<NodeDevice> List(bool active, bool inactive)
    {
        var devices = new List<NodeDevice>();
        if (active)
        {
            var parents = SysfsReads.Read(Sysfs.GetParentNames);
            devices.AddRange(parents.Select(ParentDevice).OfType<NodeDevice>());
            devices.AddRange(SriovFunctions().Except(parents, StringComparer.Ordinal).Select(SriovFunction).OfType<NodeDevice>());
            devices.AddRange(inventory.Active().Select(device => MdevDevice(device, device.Config)));
        }
        if (inactive)
        {
            devices.AddRange(Defined().Where(device => !device.IsActive).Select(device => MdevDevice(device, device.Config)));
        }
        return [.. devices.OrderBy(device => device.Name, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>One device by name.</summary>
    /// <param name="name">Its libvirt name.</param>
    /// <param name="inactive">For a defined mdev, show its stored configuration rather than the running one.</param>
    /// <exception cref="NodeDeviceException">No device has that name.</exception>
    public NodeDevice Find(string name, bool inactive = false)
    {
        var device = List(active: true, inactive: true).FirstOrDefault(device => device.Name == name)
            ?? throw new NodeDeviceException($"Node device not found: no node device with matching name '{name}'");
        if (!inactive || !device.Capabilities.Contains("mdev") || !device.IsActive)
        {
            return device;
        }
        var definition = Defined().FirstOrDefault(defined => NodeDeviceNames.ForMdev(defined.Uuid, defined.Parent) == name);
        var running = inventory.Active().First(running => NodeDeviceNames.ForMdev(running.Uuid, running.Parent) == name);
        return definition is null ? device : MdevDevice(running, definition.Config);
    }

    /// <summary>The node-device name of a parent given by its sysfs name, or null when libvirt would not list it.</summary>
    public string? ParentNodeName(string parent) =>
        Sysfs.TryLocateParent(parent) is { } location ? NodeDeviceNames.ForDevice(location.Subsystem, parent) : null;

    /// <summary>The sysfs name (mdevctl's parent address) of the registered parent libvirt calls <paramref name="nodeName"/>.</summary>
    /// <exception cref="NodeDeviceException">No registered parent has that name.</exception>
    public string ParentAddress(string nodeName) =>
        SysfsReads.Read(Sysfs.GetParentNames).FirstOrDefault(parent => ParentNodeName(parent) == nodeName)
            ?? throw new NodeDeviceException($"Node device not found: no parent device with matching name '{nodeName}'");

    private IReadOnlyList<ListedDevice> Defined()
    {
        try
        {
            return inventory.Defined();
        }
        catch (ConfigException e)
        {
            throw new NodeDeviceException($"invalid mdevctl definition: {e.Message}");
        }
    }

    private NodeDevice? ParentDevice(string parent)
    {
        if (Sysfs.TryLocateParent(parent) is not { } location || NodeDeviceNames.ForDevice(location.Subsystem, parent) is not { } name)
        {
            return null;
        }
        var types = inventory.Types(parent).SelectMany(entry => entry.Types).ToList();
        var mdevTypes = types.Count == 0 ? null : new XElement("capability", new XAttribute("type", "mdev_types"),
            types.Select(type => new XElement("type", new XAttribute("id", type.Id),
                type.Name is { Length: > 0 } pretty ? new XElement("name", pretty) : null,
                new XElement("deviceAPI", type.DeviceApi),
                new XElement("availableInstances", type.AvailableInstances.ToString(CultureInfo.InvariantCulture)))));
        var (capability, content) = location.Subsystem switch
        {
            "pci" => ("pci", PciCapability(parent, location, mdevTypes)),
            "css" => ("css", CssCapability(parent, mdevTypes)),
            _ => ("ap_matrix", new object?[] { mdevTypes }),
        };
        var xml = Device(name, location, location.Driver, new XElement("capability", new XAttribute("type", capability), content));
        return new NodeDevice(name, mdevTypes is null ? [capability] : [capability, "mdev_types"], IsActive: true, xml);
    }

    // SR-IOV physical functions and their virtual functions, where vGPUs live on NVIDIA's later GPUs: the virtual
    // functions of an Ampere GPU are mdev parents too, an Ada GPU's are not, and libvirt lists them all.
    private IEnumerable<string> SriovFunctions() =>
        SysfsReads.Read(Sysfs.GetPciFunctionNames)
            .Where(function => SysfsReads.Read(() => Sysfs.GetTotalVfs(function)) is > 0 || SysfsReads.Read(() => Sysfs.GetPhysicalFunction(function)) is not null);

    private NodeDevice? SriovFunction(string function)
    {
        if (Sysfs.TryLocatePciFunction(function) is not { } location || NodeDeviceNames.ForDevice(location.Subsystem, function) is not { } name)
        {
            return null;
        }
        var xml = Device(name, location, location.Driver, new XElement("capability", new XAttribute("type", "pci"), PciCapability(function, location, mdevTypes: null)));
        return new NodeDevice(name, ["pci"], IsActive: true, xml);
    }

    private NodeDevice MdevDevice(ListedDevice device, DeviceConfig config)
    {
        var name = NodeDeviceNames.ForMdev(device.Uuid, device.Parent);
        var location = device.IsActive ? Sysfs.TryLocateDevice(device.Uuid) : null;
        var capability = new XElement("capability", new XAttribute("type", "mdev"),
            new XElement("type", new XAttribute("id", config.MdevType)),
            new XElement("uuid", MdevUuid.Format(device.Uuid)),
            new XElement("parent_addr", device.Parent),
            // libvirt shows group 0 for a device that does not run and so has none.
            new XElement("iommuGroup", new XAttribute("number", (location?.IommuGroup ?? 0).ToString(CultureInfo.InvariantCulture))),
            config.Attributes.Select(attribute => new XElement("attr", new XAttribute("name", attribute.Key), new XAttribute("value", attribute.Value))));
        var parentNode = location is not null ? NearestNodeDevice(location.Path) : ParentNodeName(device.Parent) ?? NodeDeviceNames.Computer;
        var xml = Device(name, location, location?.Driver, capability, parentNode);
        return new NodeDevice(name, ["mdev"], device.IsActive, xml);
    }

    // <device>: name, path, parent, driver, then the capability, in libvirt's order.
    private XElement Device(string name, DeviceLocation? location, string? driver, XElement capability, string? parent = null) =>
        new("device",
            new XElement("name", name),
            location is null ? null : new XElement("path", "/" + location.Path),
            new XElement("parent", parent ?? NearestNodeDevice(location!.Path)),
            driver is null ? null : new XElement("driver", new XElement("name", driver)),
            capability);

    // The closest ancestor directory that is a node device itself, as libvirt's udev backend looks for it.
    private string NearestNodeDevice(string devicePath)
    {
        for (var directory = Path.GetDirectoryName(devicePath); directory is { Length: > 0 } && directory != SysfsPaths.Devices; directory = Path.GetDirectoryName(directory))
        {
            if (Sysfs.TryLocate(directory) is { } ancestor && NodeDeviceNames.ForDevice(ancestor.Subsystem, Path.GetFileName(directory)) is { } name)
            {
                return name;
            }
        }
        return NodeDeviceNames.Computer;
    }

    private object?[] PciCapability(string parent, DeviceLocation location, XElement? mdevTypes)
    {
        var address = PciAddress.TryParse(parent, out var parsed)
            ? parsed
            : throw new NodeDeviceException($"failed to parse the PCI address from sysfs name '{parent}'");
        var numa = HexOrDecimal(SysfsReads.Read(() => Sysfs.ReadOptionalAttribute(location.Path, SysfsNames.NumaNode)), NumberStyles.AllowLeadingSign);
        var members = location.IommuGroup is { } group
            ? SysfsReads.Read(() => Sysfs.GetIommuGroupDevices(group)).Select(name => PciAddress.TryParse(name, out var member) ? member : (PciAddress?)null).OfType<PciAddress>().ToList()
            : [];
        return
        [
            HexAttribute(location, SysfsNames.PciClass) is { } klass ? new XElement("class", $"0x{klass:x6}") : null,
            new XElement("domain", address.Domain.ToString(CultureInfo.InvariantCulture)),
            new XElement("bus", address.Bus.ToString(CultureInfo.InvariantCulture)),
            new XElement("slot", address.Slot.ToString(CultureInfo.InvariantCulture)),
            new XElement("function", address.Function.ToString(CultureInfo.InvariantCulture)),
            // libvirt names these from pci.ids; without that database the ids stand alone.
            new XElement("product", new XAttribute("id", $"0x{HexAttribute(location, SysfsNames.PciDevice) ?? 0:x4}")),
            new XElement("vendor", new XAttribute("id", $"0x{HexAttribute(location, SysfsNames.PciVendor) ?? 0:x4}")),
            SysfsReads.Read(() => Sysfs.GetPhysicalFunction(parent)) is { } physical && PciAddress.TryParse(physical, out var physicalAddress)
                ? new XElement("capability", new XAttribute("type", "phys_function"), AddressXml(physicalAddress))
                : null,
            SysfsReads.Read(() => Sysfs.GetTotalVfs(parent)) is > 0 and var total
                ? new XElement("capability", new XAttribute("type", "virt_functions"), new XAttribute("maxCount", total.ToString(CultureInfo.InvariantCulture)),
                    SysfsReads.Read(() => Sysfs.GetVirtualFunctions(parent)).Select(vf => PciAddress.TryParse(vf, out var vfAddress) ? AddressXml(vfAddress) : null))
                : null,
            mdevTypes,
            members.Count == 0 ? null : new XElement("iommuGroup", new XAttribute("number", location.IommuGroup!.Value.ToString(CultureInfo.InvariantCulture)),
                members.Select(AddressXml)),
            numa is >= 0 ? new XElement("numa", new XAttribute("node", numa.Value.ToString(CultureInfo.InvariantCulture))) : null,
        ];
    }

    private static object?[] CssCapability(string parent, XElement? mdevTypes)
    {
        if (!SubchannelAddress.TryParse(parent, out var subchannel))
        {
            throw new NodeDeviceException($"failed to parse the CCW address from sysfs name '{parent}'");
        }
        return
        [
            new XElement("cssid", $"0x{subchannel.Css:x}"),
            new XElement("ssid", $"0x{subchannel.Set:x}"),
            new XElement("devno", $"0x{subchannel.Number:x4}"),
            mdevTypes,
        ];
    }

    // libvirt's <address> of a PCI function (its function is printed as 0x and a decimal digit, which reads the same).
    private static XElement AddressXml(PciAddress address) => new("address",
        new XAttribute("domain", $"0x{address.Domain:x4}"),
        new XAttribute("bus", $"0x{address.Bus:x2}"),
        new XAttribute("slot", $"0x{address.Slot:x2}"),
        new XAttribute("function", $"0x{address.Function.ToString(CultureInfo.InvariantCulture)}"));

    private uint? HexAttribute(DeviceLocation location, string attribute) =>
        (uint?)HexOrDecimal(SysfsReads.Read(() => Sysfs.ReadOptionalAttribute(location.Path, attribute)), NumberStyles.AllowHexSpecifier);

    // sysfs shows ids as 0x-prefixed hex and the NUMA node as a signed decimal.
    private static long? HexOrDecimal(string? text, NumberStyles style)
    {
        if (text is null)
        {
            return null;
        }
        var digits = style == NumberStyles.AllowHexSpecifier && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        return long.TryParse(digits, style, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
