using Mdevkit.Simulation.Profiles;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// A simulated machine: its hardware (the parent devices a profile describes), the kernel's sysfs tree,
/// the mdev core with the vendor drivers, IOMMU groups and uevents. Thread-safe.
/// </summary>
public sealed class SimulatedHost
{
    private readonly Dictionary<string, ParentBlueprint> _hardware;
    private readonly HashSet<string> _unplugged = new(StringComparer.Ordinal);
    private readonly Lock _hotplugLock = new();
    private readonly UeventQueue _uevents = new();

    /// <summary>Boots a host with the given hardware: every parent is plugged in and registers.</summary>
    /// <param name="profileName">The profile's name, for status reports.</param>
    /// <param name="hardware">The parent devices.</param>
    /// <param name="removeWhileOpen">What a write to <c>remove</c> does while the device is open (the kernel's generation).</param>
    /// <param name="time">The clock a remove waiting for a holder asks again by; the system's by default.</param>
    public SimulatedHost(string profileName, IEnumerable<ParentBlueprint> hardware, RemoveWhileOpen removeWhileOpen = RemoveWhileOpen.Wait, TimeProvider? time = null)
    {
        ProfileName = profileName;
        _hardware = hardware.ToDictionary(blueprint => blueprint.Name, StringComparer.Ordinal);
        Tree = new SysfsTree();
        Core = new MdevCore(Tree, new IommuGroups(Tree), _uevents, time ?? TimeProvider.System) { RemoveWhileOpen = removeWhileOpen };
        foreach (var blueprint in _hardware.Values.OrderBy(blueprint => blueprint.Name, StringComparer.Ordinal))
        {
            Core.Register(blueprint);
        }
    }

    /// <summary>Boots a host from a profile, with the system's clock unless <paramref name="time"/> is given.</summary>
    public static SimulatedHost Boot(HostProfile profile, TimeProvider? time = null) =>
        new(profile.Name, profile.BuildHardware(), profile.RemoveWhileOpen ?? RemoveWhileOpen.Wait, time);

    /// <summary>The profile the host was booted from.</summary>
    public string ProfileName { get; }

    /// <summary>The simulated filesystem: <c>sys/</c> lives below its root.</summary>
    public SysfsTree Tree { get; }

    /// <summary>The mdev core.</summary>
    public MdevCore Core { get; }

    /// <summary>Every parent device the hardware has, plugged in or not, ordered by name.</summary>
    public IReadOnlyList<ParentBlueprint> Hardware => [.. _hardware.Values.OrderBy(blueprint => blueprint.Name, StringComparer.Ordinal)];

    /// <summary>Raised for every kernel uevent, after the change that caused it is complete.</summary>
    public event Action<Uevent>? UeventRaised
    {
        add => _uevents.Raised += value;
        remove => _uevents.Raised -= value;
    }

    /// <summary>Plugs a parent device back in (hotplug add); ENODEV for an unknown name, EEXIST if it is present.</summary>
    public Errno Plug(string parentName)
    {
        lock (_hotplugLock)
        {
            if (!_hardware.TryGetValue(parentName, out var blueprint))
            {
                return Errno.ENODEV;
            }
            if (!_unplugged.Remove(parentName))
            {
                return Errno.EEXIST;
            }
            Core.Register(blueprint);
            return Errno.None;
        }
    }

    /// <summary>Pulls a parent device out (hotplug remove): its devices go first; ENODEV if it is not present.</summary>
    public Errno Unplug(string parentName)
    {
        lock (_hotplugLock)
        {
            // A virtual function is no slot of the machine: it comes and goes with its physical function's sriov_numvfs.
            if (!_hardware.ContainsKey(parentName) || !Core.TryGetParent(parentName, out var parent))
            {
                return Errno.ENODEV;
            }
            Core.Unregister(parent);
            _unplugged.Add(parentName);
            return Errno.None;
        }
    }

    /// <summary>
    /// Reboots: every device is gone and every present parent registers afresh with a new driver
    /// instance (so the registered uevents that start autostart devices are sent again).
    /// Unplugged parents stay unplugged; SR-IOV virtual functions stay off until something enables them.
    /// </summary>
    public void Reboot()
    {
        lock (_hotplugLock)
        {
            var present = Core.Parents.Where(parent => _hardware.ContainsKey(parent.Name)).Select(parent => parent.Blueprint).ToArray();
            foreach (var parent in Core.Parents)
            {
                Core.Unregister(parent);
            }
            foreach (var blueprint in present)
            {
                Core.Register(blueprint);
            }
        }
    }

    /// <summary>Finds a type of a registered parent.</summary>
    public bool TryGetType(string parentName, string typeId, out MdevType type)
    {
        type = null!;
        return Core.TryGetParent(parentName, out var parent)
            && parent.Types.FirstOrDefault(candidate => candidate.Id == typeId) is { } found
            && (type = found) is not null;
    }
}
