using System.Globalization;
using Mdevkit.Simulation.Profiles;

namespace Mdevkit.Simulation.Drivers;

/// <summary>Turns profile entries into parent devices, dispatching on the driver name.</summary>
public static class VendorDrivers
{
    /// <summary>The driver names a profile may use.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mtty", "mdpy", "mbochs", "nvidia", "i915", "vfio_ccw", "vfio_ap"];

    /// <summary>The parent devices one profile entry describes.</summary>
    /// <param name="spec">The entry.</param>
    /// <param name="index">Its position in the profile, for messages.</param>
    /// <exception cref="ProfileException">The entry is invalid.</exception>
    public static IReadOnlyList<ParentBlueprint> Build(ParentSpec spec, int index)
    {
        try
        {
            if (spec.PeerLinks is < 0)
            {
                throw new ProfileException($"'peerLinks' must not be negative, not {spec.PeerLinks}");
            }
            IReadOnlyList<ParentBlueprint> blueprints = spec.Driver switch
            {
                "mtty" => [MttyDriver.Blueprint(spec)],
                "mdpy" => [MdpyDriver.Blueprint(spec)],
                "mbochs" => [MbochsDriver.Blueprint(spec)],
                "nvidia" => Repeat(spec, "0000:3e:00.0", NvidiaDriver.Blueprint),
                "i915" => Repeat(spec, "0000:00:02.0", GvtDriver.Blueprint),
                "vfio_ccw" => Repeat(spec, "0.0.0123", VfioCcwDriver.Blueprint),
                "vfio_ap" => [VfioApDriver.Blueprint(spec)],
                _ => throw new ProfileException($"unknown driver '{spec.Driver}' (known: {string.Join(", ", Names)})"),
            };
            return [.. blueprints.Select(blueprint => blueprint with { Lifecycle = spec.Lifecycle })];
        }
        catch (ProfileException e)
        {
            throw new ProfileException($"parents[{index}] ({spec.Driver}): {e.Message}");
        }
    }

    /// <summary>Rejects parameters the driver does not take, so a misspelt or misplaced one is not silently ignored.</summary>
    internal static void Accept(ParentSpec spec, params string[] parameters)
    {
        var unexpected = spec.SetParameters.Except(parameters).ToArray();
        if (unexpected.Length > 0)
        {
            throw new ProfileException($"'{string.Join("', '", unexpected)}' is not a parameter of this driver (it takes: {(parameters.Length == 0 ? "none" : string.Join(", ", parameters))})");
        }
    }

    /// <summary>Checks a numeric parameter's range and applies its default.</summary>
    internal static int Positive(int? value, int defaultValue, string name, int max = int.MaxValue)
    {
        var result = value ?? defaultValue;
        if (result <= 0 || result > max)
        {
            throw new ProfileException($"'{name}' must be between 1 and {max}, not {result}");
        }
        return result;
    }

    private static List<ParentBlueprint> Repeat(ParentSpec spec, string defaultAddress, Func<ParentSpec, string, ParentBlueprint> build)
    {
        var count = Positive(spec.Repeat, 1, "repeat", 4096);
        var address = spec.Address ?? defaultAddress;
        var blueprints = new List<ParentBlueprint>(count);
        for (var i = 0; i < count; i++)
        {
            blueprints.Add(build(spec, address));
            address = NextAddress(address);
        }
        return blueprints;
    }

    /// <summary>The next address: PCI <c>dddd:bb:ss.f</c> moves to the next bus (then domain), a subchannel <c>c.s.nnnn</c> to the next number.</summary>
    internal static string NextAddress(string address)
    {
        if (PciAddress.TryParse(address, out var pci))
        {
            return (pci with { Bus = (pci.Bus + 1) & 0xff, Domain = pci.Bus == 0xff ? pci.Domain + 1 : pci.Domain }).ToString();
        }
        if (SubchannelAddress.TryParse(address, out var subchannel))
        {
            return (subchannel with { Number = subchannel.Number + 1 }).ToString();
        }
        throw new ProfileException($"'{address}' is neither a PCI address (0000:3e:00.0) nor a subchannel (0.0.0123)");
    }
}

/// <summary>A PCI address <c>dddd:bb:ss.f</c>.</summary>
internal readonly record struct PciAddress(int Domain, int Bus, int Slot, int Function)
{
    public static bool TryParse(string text, out PciAddress address)
    {
        address = default;
        var parts = text.Split(':', '.');
        if (parts.Length != 4 || parts[0].Length != 4 || parts[1].Length != 2 || parts[2].Length != 2 || parts[3].Length != 1)
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

    /// <summary>Parses or explains what is wrong.</summary>
    public static PciAddress Parse(string text) => TryParse(text, out var address)
        ? address
        : throw new ProfileException($"'{text}' is not a PCI address like 0000:3e:00.0");

    /// <summary>The root complex directory the device sits under, e.g. <c>pci0000:00</c>.</summary>
    public string RootComplex => string.Create(CultureInfo.InvariantCulture, $"pci{Domain:x4}:00");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Domain:x4}:{Bus:x2}:{Slot:x2}.{Function:x}");

    private static bool Hex(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}

/// <summary>An s390 subchannel id <c>cssid.ssid.number</c>, e.g. <c>0.0.0123</c>.</summary>
internal readonly record struct SubchannelAddress(int Css, int Set, int Number)
{
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

    /// <summary>Parses or explains what is wrong.</summary>
    public static SubchannelAddress Parse(string text) => TryParse(text, out var address)
        ? address
        : throw new ProfileException($"'{text}' is not a subchannel id like 0.0.0123");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Css:x}.{Set:x}.{Number:x4}");
}
