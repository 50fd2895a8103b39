using System.Globalization;
using System.Text;

namespace Mdevkit.Management.Events;

/// <summary>
/// Something that happened on the host, as <c>/v1/events</c> sends it. <see cref="Id"/> grows by one per
/// event, so a client that lost its stream resumes after the last id it saw.
/// </summary>
/// <param name="Id">The event's number: one more than the one before, and across restarts too, since an agent's first id is
/// its start time in microseconds; 0 for the <c>events-lost</c> that begins a resumed stream.</param>
/// <param name="Type"><c>device-added</c>, <c>device-removed</c>, <c>device-changed</c> (opened, released),
/// <c>parent-registered</c>, <c>parent-unregistered</c>, <c>definition-changed</c>, or <c>events-lost</c>.</param>
/// <param name="Time">When the agent learned of it.</param>
/// <param name="Uuid">The device, for device and definition events.</param>
/// <param name="Parent">The parent, where known.</param>
/// <param name="Properties">The udev event's properties, for events that came from udev.</param>
public sealed record AgentEvent(long Id, string Type, DateTimeOffset Time, Guid? Uuid, string? Parent, IReadOnlyDictionary<string, string>? Properties)
{
    /// <summary>
    /// One line for a terminal: the local time, the type, the device and its parent, and for an opened or released
    /// device its holder (<c>2026-11-29 10:20:22.123  device-changed  7d2f… on mtty: opened by pid 4242</c>).
    /// </summary>
    public string Describe()
    {
        var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{Time.ToLocalTime():yyyy-MM-dd HH:mm:ss.fff}  {Type}");
        if (Uuid is { } uuid)
        {
            line.Append(CultureInfo.InvariantCulture, $"  {uuid:D}");
        }
        if (Parent is not null)
        {
            line.Append(Uuid is null ? "  " : " on ").Append(Parent);
        }
        if (Properties?.GetValueOrDefault("MDEV_LIFECYCLE") is { } lifecycle)
        {
            line.Append(": ").Append(lifecycle);
            if (Properties.GetValueOrDefault("HOLDER_PID") is { Length: > 0 } holder and not "0")
            {
                line.Append(" by pid ").Append(holder);
            }
        }
        if (Type == "events-lost")
        {
            line.Append(": some changes were not told; read the state again");
        }
        return line.ToString();
    }
}
