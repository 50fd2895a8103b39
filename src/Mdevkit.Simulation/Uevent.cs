using System.Text;

namespace Mdevkit.Simulation;

/// <summary>A kernel uevent, as udev would receive it.</summary>
/// <param name="Action">add, remove, change, bind, unbind.</param>
/// <param name="DevicePath">The device path relative to <c>/sys</c>, with a leading slash (<c>DEVPATH</c>).</param>
/// <param name="Environment">Every variable of the event, ACTION, DEVPATH, SUBSYSTEM and SEQNUM included.</param>
public sealed record Uevent(string Action, string DevicePath, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>A variable's value, or null.</summary>
    public string? this[string name] => Environment.GetValueOrDefault(name);

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder(Action).Append('@').Append(DevicePath);
        foreach (var (key, value) in Environment)
        {
            text.Append(' ').Append(key).Append('=').Append(value);
        }
        return text.ToString();
    }
}

/// <summary>
/// Numbers and queues uevents, and is their one dispatcher: events reach the listeners one at a time, in
/// SEQNUM order, after the core has let go of its lock, so listeners may call back in.
/// </summary>
internal sealed class UeventQueue
{
    private readonly Lock _lock = new();
    // Held by the one thread that delivers; the others wait for it, so a change returns only after its events went out.
    private readonly Lock _delivering = new();
    private readonly Queue<Uevent> _pending = new();
    private long _seqnum;

    public event Action<Uevent>? Raised;

    /// <summary>Numbers and queues an event, its variables in the kernel's order (<c>kobject_uevent_env</c>).</summary>
    /// <param name="action">The action.</param>
    /// <param name="devicePath">The device directory's root-relative path.</param>
    /// <param name="subsystem">The device's subsystem.</param>
    /// <param name="device">The variables of the device's own <c>uevent</c> file now (<c>DRIVER</c>, the bus's), which every event carries.</param>
    /// <param name="extra">The event's own variables (<c>MDEV_STATE</c>, …), which come before the device's.</param>
    public void Enqueue(string action, string devicePath, string subsystem, IEnumerable<KeyValuePair<string, string>> device, params (string Key, string Value)[] extra)
    {
        var devpath = "/" + devicePath["sys/".Length..];
        var environment = new Dictionary<string, string>
        {
            ["ACTION"] = action,
            ["DEVPATH"] = devpath,
            ["SUBSYSTEM"] = subsystem,
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }
        foreach (var (key, value) in device)
        {
            environment.TryAdd(key, value);
        }
        lock (_lock)
        {
            environment["SEQNUM"] = (++_seqnum).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _pending.Enqueue(new Uevent(action, devpath, environment));
        }
    }

    /// <summary>Delivers every queued event; called by a listener, it returns at once and the delivery it is part of goes on after it.</summary>
    public void Deliver()
    {
        if (_delivering.IsHeldByCurrentThread)
        {
            return;
        }
        lock (_delivering)
        {
            while (true)
            {
                Uevent? next;
                lock (_lock)
                {
                    if (!_pending.TryDequeue(out next))
                    {
                        return;
                    }
                }
                Raised?.Invoke(next);
            }
        }
    }
}
