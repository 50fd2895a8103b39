using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// The kernel's mdev core (<c>mdev_core.c</c> + <c>mdev_sysfs.c</c>): parent registration, the type
/// directories, and device create/remove with the core's checks, counting, links and uevents.
/// Every change runs under one lock, as the kernel serializes them under <c>mdev_list_lock</c>.
/// </summary>
public sealed partial class MdevCore
{
    private readonly Lock _lock = new();
    private readonly SysfsTree _tree;
    private readonly IommuGroups _iommuGroups;
    private readonly UeventQueue _uevents;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, ParentDevice> _parents = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, MdevDevice> _devices = [];

    internal MdevCore(SysfsTree tree, IommuGroups iommuGroups, UeventQueue uevents, TimeProvider time)
    {
        _time = time;
        _tree = tree;
        _iommuGroups = iommuGroups;
        _uevents = uevents;
        _tree.EnsureDirectory(SysfsPaths.MdevBusClass);
        _tree.EnsureDirectory(SysfsPaths.MdevBusDevices);
        _tree.EnsureDirectory(SysfsPaths.MdevBusDrivers);
        _tree.EnsureDirectory(SysfsPaths.VfioGroups);
    }

    /// <summary>The registered parents, and the functions drivers only bind, ordered by name.</summary>
    public IReadOnlyList<ParentDevice> Parents
    {
        get
        {
            lock (_lock)
            {
                return [.. _parents.Values.OrderBy(parent => parent.Name, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Every device on every parent.</summary>
    public IReadOnlyList<MdevDevice> Devices
    {
        get
        {
            lock (_lock)
            {
                return [.. _devices.Values];
            }
        }
    }

    /// <summary>Finds a registered parent by name.</summary>
    public bool TryGetParent(string name, out ParentDevice parent)
    {
        lock (_lock)
        {
            return _parents.TryGetValue(name, out parent!);
        }
    }

    /// <summary>Finds a device by UUID.</summary>
    public bool TryGetDevice(Guid uuid, out MdevDevice device)
    {
        lock (_lock)
        {
            return _devices.TryGetValue(uuid, out device!);
        }
    }

    /// <summary>What <c>available_instances</c> shows for a type now.</summary>
    public uint GetAvailableInstances(MdevType type)
    {
        lock (_lock)
        {
            return type.Parent.Driver is IAvailabilityHook hook ? hook.GetAvailable(type.Spec) : type.Parent.AvailableInstances;
        }
    }

    // Runs a change under the core lock and delivers the uevents it raised after letting go.
    private T Change<T>(Func<T> change)
    {
        try
        {
            lock (_lock)
            {
                return change();
            }
        }
        finally
        {
            _uevents.Deliver();
        }
    }
}
