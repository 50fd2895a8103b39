namespace Mdevkit.Simulation.Drivers;

/// <summary>The parent a PCI vendor driver registers: a physical function bound to the host's GPU driver.</summary>
internal static class PciParent
{
    /// <summary>
    /// <c>sys/devices/pci&lt;domain&gt;:00/&lt;address&gt;</c>, bound to <paramref name="hostDriver"/> (so type ids are
    /// <c>&lt;hostDriver&gt;-&lt;name&gt;</c>), on the PCI bus and, as a physical function, in an IOMMU group of its own.
    /// </summary>
    /// <exception cref="Profiles.ProfileException"><paramref name="address"/> is not a PCI address.</exception>
    public static ParentBlueprint Blueprint(string address, string hostDriver, Func<IMdevDriver> createDriver)
    {
        var pci = PciAddress.Parse(address);
        // The canonical spelling names the device, so that 0000:3E:00.0 and 0000:3e:00.0 count as the same one.
        var name = pci.ToString();
        return new ParentBlueprint(
            Name: name,
            DevicePath: $"sys/devices/{pci.RootComplex}/{name}",
            DriverString: hostDriver,
            BoundDriverPath: $"sys/bus/pci/drivers/{hostDriver}",
            SubsystemPath: "sys/bus/pci",
            HasIommuGroup: true,
            CreateDriver: createDriver);
    }
}
