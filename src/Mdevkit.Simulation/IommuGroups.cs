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
    // Numbers below _next that were given back; the lowest of them is the next one taken, as the IDA does.
    private readonly SortedSet<int> _freed = [];
    private readonly Lock _lock = new();
    private int _next;

    /// <summary>Puts <paramref name="device"/> into a new group and links it both ways.</summary>
    public int Add(SysfsDirectory device)
    {
        int number;
        lock (_lock)
        {
            if (_freed.Count > 0)
            {
                number = _freed.Min;
                _freed.Remove(number);
            }
            else
            {
                number = _next++;
            }
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
            if (number < _next)
            {
                _freed.Add(number);
            }
            while (_freed.Remove(_next - 1))
            {
                _next--;
            }
        }
    }

    private static string GroupPath(int number) =>
        SysfsPaths.IommuGroups + "/" + number.ToString(CultureInfo.InvariantCulture);
}
