using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

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

    /// <summary>Parses a profile's PCI address or explains what is wrong.</summary>
    internal static PciAddress ParsePci(string text) => PciAddress.TryParse(text, out var address)
        ? address
        : throw new ProfileException($"'{text}' is not a PCI address like 0000:3e:00.0");

    /// <summary>Parses a profile's subchannel id or explains what is wrong.</summary>
    internal static SubchannelAddress ParseSubchannel(string text) => SubchannelAddress.TryParse(text, out var address)
        ? address
        : throw new ProfileException($"'{text}' is not a subchannel id like 0.0.0123");

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
