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

    /// <summary>The hostdev for a running or defined device.</summary>
    /// <exception cref="NodeDeviceException">No such device, or its type is not offered by its parent now.</exception>
    public static XElement For(Guid uuid, MdevctlEnvironment environment, DeviceInventory inventory)
    {
        string parent, type;
        if (environment.Sysfs.TryGetActiveDevice(uuid, out var running))
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
        var typeInfo = (environment.Sysfs.ParentExists(parent) ? SysfsReads.Read(() => environment.Sysfs.GetTypes(parent)) : []).FirstOrDefault(candidate => candidate.Id == type)
            ?? throw new NodeDeviceException($"parent {parent} does not offer type {type} now, so its device API is unknown");
        return Create(uuid, typeInfo);
    }

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
