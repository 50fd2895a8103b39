using System.Text.Json.Serialization;

namespace Mdevkit.Simulation.Profiles;

/// <summary>
/// One entry of a host profile's <c>parents</c> list: which vendor driver, where, and its parameters.
/// A parameter that the named driver does not take is an error, so typos cannot pass silently.
/// </summary>
public sealed record ParentSpec
{
    /// <summary>The kernel driver: <c>mtty</c>, <c>mdpy</c>, <c>mbochs</c>, <c>nvidia</c>, <c>i915</c>, <c>vfio_ccw</c>, <c>vfio_ap</c>.</summary>
    public required string Driver { get; init; }

    /// <summary>The device address: a PCI address (<c>0000:3e:00.0</c>) or an s390 subchannel (<c>0.0.0123</c>).</summary>
    public string? Address { get; init; }

    /// <summary>How many such parents, at consecutive addresses (PCI: next bus; subchannel: next number).</summary>
    public int? Repeat { get; init; }

    /// <summary>mtty: ports shared by all its devices (module default 24).</summary>
    public int? Ports { get; init; }

    /// <summary>mdpy: devices in its one pool (module parameter <c>count</c>, default 4).</summary>
    public int? MaxInstances { get; init; }

    /// <summary>mbochs: megabytes of video memory shared by its devices (default 256).</summary>
    public int? MemoryMB { get; init; }

    /// <summary>nvidia: the GPU model whose vGPU type table to offer (<c>M60</c>).</summary>
    public string? Model { get; init; }

    /// <summary>nvidia: remove the directories of types that cannot be created, instead of showing 0.</summary>
    public bool? HideUnavailableTypes { get; init; }

    /// <summary>i915: the aperture (low graphics memory) in MB (default 1024).</summary>
    public int? ApertureMB { get; init; }

    /// <summary>i915: the hidden (high graphics memory) in MB (default 3072).</summary>
    public int? HiddenMB { get; init; }

    /// <summary>i915: fence registers (default 32).</summary>
    public int? Fences { get; init; }

    /// <summary>vfio_ccw: whether the subchannel is operational (default true; otherwise create fails with ENODEV).</summary>
    public bool? Operational { get; init; }

    /// <summary>vfio_ap: the adapters reserved for vfio_ap in the host's <c>apmask</c>, e.g. <c>5-6</c> or <c>5,0x0a</c>.</summary>
    public string? Adapters { get; init; }

    /// <summary>vfio_ap: the usage domains reserved for vfio_ap in the host's <c>aqmask</c>, e.g. <c>4,0x47</c>.</summary>
    public string? Domains { get; init; }

    /// <summary>Any driver: peer-to-peer links each physical device can hold (absent: the vendor sets up none).</summary>
    public int? PeerLinks { get; init; }

    /// <summary>Any driver: whether a process running devices may open one more (default true).</summary>
    public bool? Hotplug { get; init; }

    /// <summary>The lifecycle these settings declare.</summary>
    [JsonIgnore]
    public ParentLifecycle Lifecycle => new(PeerLinks, Hotplug ?? true);

    /// <summary>The driver-specific parameters that are set, by their JSON names, for checking them against what a driver takes.</summary>
    [JsonIgnore]
    public IEnumerable<string> SetParameters
    {
        get
        {
            (string Name, object? Value)[] all =
            [
                ("ports", Ports), ("maxInstances", MaxInstances), ("memoryMB", MemoryMB), ("model", Model),
                ("hideUnavailableTypes", HideUnavailableTypes), ("apertureMB", ApertureMB), ("hiddenMB", HiddenMB),
                ("fences", Fences), ("operational", Operational), ("adapters", Adapters), ("domains", Domains),
            ];
            return all.Where(parameter => parameter.Value is not null).Select(parameter => parameter.Name);
        }
    }
}
