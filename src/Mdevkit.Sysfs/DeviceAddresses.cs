using System.Globalization;

namespace Mdevkit.Sysfs;

/// <summary>
/// A PCI function's address as the kernel names its sysfs directory: <c>dddd:bb:ss.f</c> in hex
/// (<c>%04x:%02x:%02x.%d</c>, so a domain past <c>ffff</c> has more digits).
/// </summary>
/// <param name="Domain">The PCI domain (segment).</param>
/// <param name="Bus">The bus, 0–ff.</param>
/// <param name="Slot">The device slot, 0–1f.</param>
/// <param name="Function">The function, 0–7.</param>
public readonly record struct PciAddress(int Domain, int Bus, int Slot, int Function)
{
    /// <summary>Parses a sysfs name; false when it is not a PCI address.</summary>
    public static bool TryParse(string text, out PciAddress address)
    {
        address = default;
        var parts = text.Split(':', '.');
        if (parts.Length != 4 || parts[0].Length is < 4 or > 8 || parts[1].Length != 2 || parts[2].Length != 2 || parts[3].Length != 1)
        {
            return false;
        }
        if (!Hex(parts[0], out var domain) || !Hex(parts[1], out var bus) || !Hex(parts[2], out var slot) || !Hex(parts[3], out var function)
            || slot > 0x1f || function > 7)
        {
            return false;
        }
        address = new PciAddress(domain, bus, slot, function);
        return true;
    }

    /// <summary>The root complex directory the function sits under in <c>sys/devices</c>, e.g. <c>pci0000:00</c>.</summary>
    public string RootComplex => string.Create(CultureInfo.InvariantCulture, $"pci{Domain:x4}:00");

    /// <summary>The kernel's spelling, e.g. <c>0000:3e:00.0</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Domain:x4}:{Bus:x2}:{Slot:x2}.{Function:x}");

    private static bool Hex(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}

/// <summary>An s390 subchannel id as the css bus names it: <c>cssid.ssid.devno</c>, e.g. <c>0.0.0123</c>.</summary>
/// <param name="Css">The channel subsystem id, 0–ff.</param>
/// <param name="Set">The subchannel set id, 0–3.</param>
/// <param name="Number">The subchannel number, four hex digits.</param>
public readonly record struct SubchannelAddress(int Css, int Set, int Number)
{
    /// <summary>Parses a sysfs name; false when it is not a subchannel id.</summary>
    public static bool TryParse(string text, out SubchannelAddress address)
    {
        address = default;
        var parts = text.Split('.');
        if (parts.Length != 3 || parts[2].Length != 4
            || !int.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var css)
            || !int.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var set)
            || !int.TryParse(parts[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var number)
            || css > 0xff || set > 3)
        {
            return false;
        }
        address = new SubchannelAddress(css, set, number);
        return true;
    }

    /// <summary>The kernel's spelling, e.g. <c>0.0.0123</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Css:x}.{Set:x}.{Number:x4}");
}
