using System.Globalization;
using System.Xml.Linq;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Libvirt;

/// <summary>
/// The domain <c>&lt;hostdev&gt;</c> that gives a guest an mdev. The model is the type's device API, which libvirt
/// insists on. <c>display='on'</c> is added for types whose driver exports a display to QEMU's vfio display
/// (a plane QEMU can show through VNC or SPICE): vfio-pci types of the mdpy and mbochs samples, Intel GVT-g
/// (<c>i915</c>) and NVIDIA vGPU. Serial (mtty), channel I/O and crypto devices have no display, and QEMU refuses
/// <c>display=on</c> for a device without one.
/// </summary>
public static class MdevHostdev
{
    private static readonly string[] s_displayDrivers = ["mdpy", "mbochs", "i915", "nvidia"];

    /// <summary>
    /// The hostdev for a running or defined device: an mdev's, or for a vGPU of NVIDIA's vendor-specific VFIO the PCI
    /// hostdev of its virtual function (<see cref="PciFunction"/>).
    /// </summary>
    /// <param name="uuid">The device.</param>
    /// <param name="environment">The root.</param>
    /// <param name="inventory">Its definitions and devices.</param>
    /// <param name="kernel">Where devices live; mdev alone when null.</param>
    /// <exception cref="NodeDeviceException">No such device, or its type is not offered by its parent now.</exception>
    public static XElement For(Guid uuid, MdevctlEnvironment environment, DeviceInventory inventory, KernelDevices? kernel = null)
    {
        kernel ??= new KernelDevices(environment, vendorVfio: false);
        string parent, type;
        if (kernel.TryGetActive(uuid, out var running))
        {
            (parent, type) = (running.Parent, running.Type);
        }
        else if (inventory.Defined(uuid) is [var defined, ..])
        {
            (parent, type) = (defined.Parent, defined.Config.MdevType);
        }
        else
        {
            throw new NodeDeviceException($"no mediated device {MdevUuid.Format(uuid)} is running or defined");
        }
        if (kernel.IsVendorSlot(parent) && PciAddress.TryParse(parent, out var function))
        {
            return PciFunction(function);
        }
        var typeInfo = (environment.Sysfs.ParentExists(parent) ? SysfsReads.Read(() => environment.Sysfs.GetTypes(parent)) : []).FirstOrDefault(candidate => candidate.Id == type)
            ?? throw new NodeDeviceException($"parent {parent} does not offer type {type} now, so its device API is unknown");
        return Create(uuid, typeInfo);
    }

    /// <summary>
    /// The hostdev that gives a guest a whole PCI function: how a virtual function with a vGPU of NVIDIA's
    /// vendor-specific VFIO is assigned. <c>managed='no'</c>: the function stays bound to <c>nvidia</c>, which is
    /// its VFIO driver; libvirt must not rebind it to <c>vfio-pci</c>.
    /// </summary>
    public static XElement PciFunction(PciAddress function) =>
        new("hostdev",
            new XAttribute("mode", "subsystem"),
            new XAttribute("type", "pci"),
            new XAttribute("managed", "no"),
            new XElement("source", new XElement("address",
                new XAttribute("domain", Hex(function.Domain, "x4")),
                new XAttribute("bus", Hex(function.Bus, "x2")),
                new XAttribute("slot", Hex(function.Slot, "x2")),
                new XAttribute("function", Hex(function.Function, "x")))));

    private static string Hex(int value, string format) => "0x" + value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The hostdev for a device of the given type.</summary>
    /// <exception cref="NodeDeviceException">The type's device API is not one libvirt can assign.</exception>
    public static XElement Create(Guid uuid, MdevTypeInfo type)
    {
        if (type.DeviceApi is not ("vfio-pci" or "vfio-ccw" or "vfio-ap"))
        {
            throw new NodeDeviceException($"libvirt cannot assign device API '{type.DeviceApi}' (vfio-pci, vfio-ccw or vfio-ap)");
        }
        // A type id is the parent driver's name, a dash, and the driver's own name for the type.
        var driver = type.Id.Split('-', 2)[0];
        var display = type.DeviceApi == "vfio-pci" && s_displayDrivers.Contains(driver);
        return new XElement("hostdev",
            new XAttribute("mode", "subsystem"),
            new XAttribute("type", "mdev"),
            new XAttribute("managed", "no"),
            new XAttribute("model", type.DeviceApi),
            display ? new XAttribute("display", "on") : null,
            new XElement("source", new XElement("address", new XAttribute("uuid", MdevUuid.Format(uuid)))));
    }
}
