using System.Xml;
using System.Xml.Linq;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Libvirt;

/// <summary>
/// An mdev as <c>virsh nodedev-define</c> and <c>nodedev-create</c> take it: a <c>&lt;device&gt;</c> with a
/// <c>&lt;parent&gt;</c> node-device name and a <c>&lt;capability type='mdev'&gt;</c> holding the type, an
/// optional UUID, attributes in write order and (libvirt 7.8 and later) a start mode.
/// </summary>
/// <param name="Parent">The parent's node-device name, e.g. <c>pci_0000_00_02_0</c>.</param>
/// <param name="Uuid">The UUID asked for, or null for a new one.</param>
/// <param name="Config">Type, start mode and attributes.</param>
public sealed record MdevDeviceXml(string Parent, Guid? Uuid, DeviceConfig Config)
{
    /// <summary>Reads the document.</summary>
    /// <exception cref="NodeDeviceException">It is not XML, or not an mdev description; the message says which part.</exception>
    public static MdevDeviceXml Parse(string text)
    {
        XElement root;
        try
        {
            root = XDocument.Parse(text).Root!;
        }
        catch (XmlException e)
        {
            // The parser's own text is a resource key in trimmed builds; the position is what helps.
            throw new NodeDeviceException($"XML error: the document is not well-formed XML (line {e.LineNumber}, column {e.LinePosition})");
        }
        if (root.Name != "device")
        {
            throw new NodeDeviceException($"XML error: expected root element <device>, found <{root.Name}>");
        }
        var parent = root.Element("parent")?.Value.Trim() is { Length: > 0 } name
            ? name
            : throw new NodeDeviceException("XML error: an mdev needs a <parent> naming its parent node device");
        var capability = root.Elements("capability").FirstOrDefault(element => (string?)element.Attribute("type") == "mdev")
            ?? throw new NodeDeviceException("XML error: no <capability type='mdev'>; only mediated devices can be defined or created");
        var type = (string?)capability.Element("type")?.Attribute("id") is { Length: > 0 } id
            ? id
            : throw new NodeDeviceException("XML error: <capability type='mdev'> needs <type id='...'/>");
        Guid? uuid = null;
        if (capability.Element("uuid") is { } uuidElement)
        {
            uuid = MdevUuid.TryParse(uuidElement.Value.Trim().ToLowerInvariant(), out var parsed)
                ? parsed
                : throw new NodeDeviceException($"XML error: '{uuidElement.Value}' is not a UUID");
        }
        var attributes = capability.Elements("attr").Select(attribute =>
            (string?)attribute.Attribute("name") is { Length: > 0 } attributeName && (string?)attribute.Attribute("value") is { } value
                ? new KeyValuePair<string, string>(attributeName, value)
                : throw new NodeDeviceException("XML error: every <attr> needs a name and a value")).ToList();
        var start = (string?)capability.Element("start")?.Attribute("type") ?? "manual";
        if (start is not ("auto" or "manual"))
        {
            throw new NodeDeviceException($"XML error: unknown start type '{start}' (auto or manual)");
        }
        return new MdevDeviceXml(parent, uuid, new DeviceConfig(type, start == "auto", attributes));
    }
}
