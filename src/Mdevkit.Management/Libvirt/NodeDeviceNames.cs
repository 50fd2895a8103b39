using System.Text;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Libvirt;

/// <summary>
/// The names libvirt's udev backend gives node devices: <c>&lt;subsystem&gt;_&lt;sysfs name&gt;</c> with every
/// character that is not an ASCII letter or digit made <c>_</c> (<c>pci_0000_3e_00_0</c>, <c>css_0_0_0123</c>);
/// the AP matrix, whose bus and device are both called <c>matrix</c>, is <c>ap_matrix</c>; an mdev carries its
/// parent's address as a suffix, so the same UUID on two parents gets two names.
/// </summary>
public static class NodeDeviceNames
{
    /// <summary>The root of libvirt's device tree: the parent of every device with no node-device ancestor.</summary>
    public const string Computer = "computer";

    /// <summary>The node device a physical device is, or null for a subsystem libvirt 9 does not list with mdev types.</summary>
    /// <param name="subsystem">The device's bus (its <c>subsystem</c> link).</param>
    /// <param name="sysfsName">Its directory name.</param>
    public static string? ForDevice(string? subsystem, string sysfsName) => subsystem switch
    {
        "pci" or "css" => Sanitize($"{subsystem}_{sysfsName}"),
        "matrix" => "ap_matrix",
        _ => null,
    };

    /// <summary>The node device an mdev is: <c>mdev_&lt;uuid&gt;_&lt;parent address&gt;</c>, sanitized.</summary>
    public static string ForMdev(Guid uuid, string parentAddress) => Sanitize($"mdev_{MdevUuid.Format(uuid)}_{parentAddress}");

    private static string Sanitize(string name)
    {
        var text = new StringBuilder(name);
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(text[i]))
            {
                text[i] = '_';
            }
        }
        return text.ToString();
    }
}
