using Mdevkit.Sysfs;

namespace Mdevkit.Management.Events;

/// <summary>What one <see cref="UdevListener.Receive"/> heard.</summary>
/// <param name="Events">The events' properties, in the order udev sent them.</param>
/// <param name="Lost">Events came faster than they were read and some were dropped: anything may have changed.</param>
public sealed record UdevBatch(IReadOnlyList<IReadOnlyList<KeyValuePair<string, string>>> Events, bool Lost);

/// <summary>
/// The kernel's changes as udev passes them on, for a host that keeps a view of a root up to date (the agent, the DRA
/// plugin): a listener on the udev netlink group in the root's own network namespace when it has one (a simulated
/// host sends there), else in the caller's. Open it before reading the host, so that every change after the read has
/// an event that tells it.
/// </summary>
public sealed class UdevListener : IDisposable
{
    // The most messages taken at once: a burst becomes one batch, without starving whoever handles them.
    private const int MaxBatch = 256;

    private readonly UeventSocket _socket;

    private UdevListener(UeventSocket socket)
    {
        _socket = socket;
    }

    /// <summary>Where a root keeps its network namespace, if it has one of its own.</summary>
    private static string NamespaceOf(MdevctlEnvironment environment) => environment.Sysfs.PathOf(MdevkitPaths.NetworkNamespace);

    /// <summary>Starts listening to the root's udev events.</summary>
    /// <exception cref="SysfsException">The socket cannot be opened, or the root's namespace entered.</exception>
    public static UdevListener Open(MdevctlEnvironment environment) => new(File.Exists(NamespaceOf(environment))
        ? UeventSocket.OpenIn(NamespaceOf(environment), UeventSocket.UdevGroup)
        : UeventSocket.Open(UeventSocket.UdevGroup));

    /// <summary>
    /// Waits up to <paramref name="wait"/> for an event, then takes what else is already there; an empty batch when
    /// nothing came (so a caller can look up to see whether it is stopping).
    /// </summary>
    public UdevBatch Receive(TimeSpan wait)
    {
        var events = new List<IReadOnlyList<KeyValuePair<string, string>>>();
        try
        {
            for (var message = _socket.Receive(wait); message is not null; message = events.Count < MaxBatch ? _socket.Receive(TimeSpan.Zero) : null)
            {
                if (UdevMessages.TryDecode(message, out var properties))
                {
                    events.Add(properties);
                }
            }
        }
        catch (SysfsException e) when (e.Errno == Errno.ENOBUFS)
        {
            return new UdevBatch(events, Lost: true);
        }
        return new UdevBatch(events, Lost: false);
    }

    /// <summary>Stops listening.</summary>
    public void Dispose() => _socket.Dispose();
}

/// <summary>An mdev-related udev event, as the agent's event stream names it and the DRA plugin republishes on it.</summary>
/// <param name="Type"><c>device-added</c>, <c>device-removed</c>, <c>device-changed</c> (opened, released), <c>parent-registered</c> or <c>parent-unregistered</c>.</param>
/// <param name="Uuid">The device, for device events.</param>
/// <param name="Parent">The parent.</param>
public sealed record MdevUdevEvent(string Type, Guid? Uuid, string Parent)
{
    /// <summary>What an event means for mdevs; null for events of no interest.</summary>
    public static MdevUdevEvent? FromUdev(IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        string? Value(string key) => properties.FirstOrDefault(property => property.Key == key).Value;
        var components = (Value("DEVPATH") ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (Value("SUBSYSTEM") == "mdev" && components.Length >= 2 && MdevUuid.TryParse(components[^1], out var uuid))
        {
            return Value("ACTION") switch
            {
                "add" => new("device-added", uuid, components[^2]),
                "remove" => new("device-removed", uuid, components[^2]),
                "change" => new("device-changed", uuid, components[^2]),
                _ => null,
            };
        }
        return (Value("MDEV_STATE"), components) switch
        {
            ("registered", [.., var parent]) => new("parent-registered", null, parent),
            ("unregistered", [.., var parent]) => new("parent-unregistered", null, parent),
            _ => null,
        };
    }
}
