using System.Text.Json.Serialization;

namespace Mdevkit.Simulation;

/// <summary>What a vendor declares about the lifecycle of its devices.</summary>
/// <param name="PeerLinks">
/// Peer-to-peer links the physical device can hold at once (NVLink-style, between devices on different
/// parents); null when the vendor sets up no peer resources.
/// </param>
/// <param name="Hotplug">
/// Whether a process that already runs devices may open one more. Without hotplug it must release
/// them first: its next open gets EBUSY.
/// </param>
public sealed record ParentLifecycle(int? PeerLinks = null, bool Hotplug = true)
{
    /// <summary>No peer resources, hotplug allowed: what the kernel samples and most drivers do.</summary>
    public static ParentLifecycle Default { get; } = new();
}

/// <summary>What a write to <c>remove</c> does while the device is open.</summary>
public enum RemoveWhileOpen
{
    /// <summary>Current kernels: block, asking the holder to release the device, until it does.</summary>
    [JsonStringEnumMemberName("wait")]
    Wait,

    /// <summary>Older kernels: refuse with EBUSY.</summary>
    [JsonStringEnumMemberName("busy")]
    Busy,
}

/// <summary>Where a device is in its life: nobody holds it, a process opened it, or that process has accessed it.</summary>
public enum DeviceState
{
    /// <summary>Not open.</summary>
    Idle,

    /// <summary>Open by one process, not yet accessed.</summary>
    Open,

    /// <summary>Accessed through the open handle (the first MMIO fault); peer links are set up.</summary>
    Running,
}

/// <summary>The names sysfs and the simulator's status show for a <see cref="DeviceState"/>.</summary>
public static class DeviceStateNames
{
    /// <summary><c>idle</c>, <c>open</c> or <c>running</c>.</summary>
    public static string Name(this DeviceState state) => state switch
    {
        DeviceState.Open => "open",
        DeviceState.Running => "running",
        _ => "idle",
    };
}

/// <summary>The use of one device: who holds it, its state, its peer links and pending release requests. Guarded by the core lock.</summary>
internal sealed class DeviceUse
{
    public int? HolderPid { get; set; }

    public DeviceState State { get; set; }

    public SortedSet<Guid> Peers { get; } = [];

    public int ReleaseRequests { get; set; }

    /// <summary>Set whenever nobody holds the device; a blocked remove waits on it.</summary>
    public ManualResetEventSlim Released { get; } = new(initialState: true);
}
