using System.Globalization;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// The global IOMMU group numbers (an IDA: the lowest free number is taken) and their
/// <c>sys/kernel/iommu_groups/&lt;n&gt;/devices/</c> directories. Physical devices and mdevs share the numbers.
/// </summary>
internal sealed class IommuGroups(SysfsTree tree)
{
    private readonly SortedSet<int> _used = [];
    private readonly Lock _lock = new();

    /// <summary>Puts <paramref name="device"/> into a new group and links it both ways.</summary>
    public int Add(SysfsDirectory device)
    {
        int number;
        lock (_lock)
        {
            number = 0;
            while (_used.Contains(number))
            {
                number++;
            }
            _used.Add(number);
        }
        var group = tree.EnsureDirectory(GroupPath(number));
        var devices = tree.EnsureDirectory(GroupPath(number) + "/devices");
        tree.CreateAttribute(group, "type", SysfsAttribute.ReadOnly, () => "identity\n");
        tree.CreateLink(devices, device.Name, device);
        tree.CreateLink(device, SysfsNames.IommuGroup, group);
        return number;
    }

    /// <summary>Frees a group made by <see cref="Add"/>; the device's own link goes with its directory.</summary>
    public void Release(int number, SysfsDirectory device)
    {
        if (device.Parent is not null && tree.TryLookup(device.Path + "/" + SysfsNames.IommuGroup, out var link))
        {
            tree.Remove(link);
        }
        if (tree.TryLookup(GroupPath(number), out var group))
        {
            tree.Remove(group);
        }
        lock (_lock)
        {
            _used.Remove(number);
        }
    }

    private static string GroupPath(int number) =>
        SysfsPaths.IommuGroups + "/" + number.ToString(CultureInfo.InvariantCulture);
}
