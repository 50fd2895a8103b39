using System.Globalization;
using System.Xml.Linq;

namespace Mdevkit.Management.Libvirt;

/// <summary>A PCI address as sysfs names a function: <c>dddd:bb:ss.f</c>, all hex.</summary>
internal sealed record PciAddress(uint Domain, uint Bus, uint Slot, uint Function)
{
    /// <summary>Parses a sysfs name; null when it is not a PCI address.</summary>
    public static PciAddress? TryParse(string name)
    {
        var parts = name.Split(':', '.');
        var numbers = new uint[4];
        if (parts.Length != 4)
        {
            return null;
        }
        for (var i = 0; i < 4; i++)
        {
            if (!uint.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return null;
            }
        }
        return new PciAddress(numbers[0], numbers[1], numbers[2], numbers[3]);
    }

    /// <summary>Parses the name of a parent on the PCI bus.</summary>
    /// <exception cref="NodeDeviceException">It is not a PCI address.</exception>
    public static PciAddress Parse(string name) =>
        TryParse(name) ?? throw new NodeDeviceException($"failed to parse the PCI address from sysfs name '{name}'");

    /// <summary>libvirt's <c>&lt;address&gt;</c> element (its function is printed as <c>0x</c> and a decimal digit, which reads the same).</summary>
    public XElement ToXml() => new("address",
        new XAttribute("domain", $"0x{Domain:x4}"),
        new XAttribute("bus", $"0x{Bus:x2}"),
        new XAttribute("slot", $"0x{Slot:x2}"),
        new XAttribute("function", $"0x{Function.ToString(CultureInfo.InvariantCulture)}"));
}
