using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>What a PCI function's configuration space says it is.</summary>
/// <param name="Vendor">The vendor id.</param>
/// <param name="Device">The device id.</param>
/// <param name="Class">The 24-bit class code (base class, subclass, programming interface).</param>
internal readonly record struct PciId(ushort Vendor, ushort Device, uint Class);

/// <summary>The parent a PCI vendor driver registers: a physical function bound to the host's GPU driver.</summary>
internal static class PciParent
{
    /// <summary>
    /// <c>sys/devices/pci&lt;domain&gt;:00/&lt;address&gt;</c>, bound to <paramref name="hostDriver"/> (so type ids are
    /// <c>&lt;hostDriver&gt;-&lt;name&gt;</c>), on the PCI bus and, as a physical function, in an IOMMU group of its own.
    /// </summary>
    /// <param name="address">The PCI address.</param>
    /// <param name="hostDriver">The host driver's name.</param>
    /// <param name="id">The function's vendor, device and class codes, as its <c>vendor</c>, <c>device</c> and <c>class</c> files show them.</param>
    /// <param name="createDriver">Makes the vendor driver's state.</param>
    /// <exception cref="Profiles.ProfileException"><paramref name="address"/> is not a PCI address.</exception>
    public static ParentBlueprint Blueprint(string address, string hostDriver, PciId id, Func<IMdevDriver> createDriver)
    {
        var pci = VendorDrivers.ParsePci(address);
        // The canonical spelling names the device, so that 0000:3E:00.0 and 0000:3e:00.0 count as the same one.
        var name = pci.ToString();
        return new ParentBlueprint(
            Name: name,
            DevicePath: $"sys/devices/{pci.RootComplex}/{name}",
            DriverString: hostDriver,
            BoundDriverPath: $"sys/bus/pci/drivers/{hostDriver}",
            SubsystemPath: "sys/bus/pci",
            HasIommuGroup: true,
            CreateDriver: createDriver,
            Identity:
            [
                new(SysfsNames.PciVendor, $"0x{id.Vendor:x4}"),
                new(SysfsNames.PciDevice, $"0x{id.Device:x4}"),
                new(SysfsNames.PciClass, $"0x{id.Class:x6}"),
                // No NUMA affinity, as on a machine with one node.
                new(SysfsNames.NumaNode, "-1"),
            ])
        {
            BinaryAttributes = [new(SysfsNames.PciConfig, ConfigurationSpace(id))],
            // pci_uevent's variables (the subsystem ids are not modelled, so neither they nor MODALIAS appear).
            UeventProperties =
            [
                new("PCI_CLASS", $"{id.Class:X4}"),
                new("PCI_ID", $"{id.Vendor:X4}:{id.Device:X4}"),
                new("PCI_SLOT_NAME", name),
            ],
        };
    }

    /// <summary>
    /// The 256 bytes of a conventional function's configuration space: its ids and class code, header type 0,
    /// and a status register without the capability-list bit, so consumers (libvirt) find no capabilities.
    /// Every other register reads 0; multi-byte registers are little-endian, as PCI defines them.
    /// </summary>
    internal static byte[] ConfigurationSpace(PciId id)
    {
        var space = new byte[256];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(space.AsSpan(0x00), id.Vendor);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(space.AsSpan(0x02), id.Device);
        // Programming interface, subclass and base class at 0x09..0x0b; the revision at 0x08 stays 0.
        space[0x09] = (byte)id.Class;
        space[0x0a] = (byte)(id.Class >> 8);
        space[0x0b] = (byte)(id.Class >> 16);
        return space;
    }
}
