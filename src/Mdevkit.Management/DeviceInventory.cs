using System.Runtime.ExceptionServices;
using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>A device as a listing shows it: where it is, its configuration, and whether it runs and is defined.</summary>
/// <param name="Uuid">The device's UUID.</param>
/// <param name="Parent">Its parent.</param>
/// <param name="Config">Type, start mode and attributes.</param>
/// <param name="IsActive">Whether it exists in the kernel (on this parent, with this type).</param>
/// <param name="IsDefined">Whether a definition for (parent, UUID) exists.</param>
public sealed record ListedDevice(Guid Uuid, string Parent, DeviceConfig Config, bool IsActive, bool IsDefined);

/// <summary>Joins what runs (sysfs) with what is defined (<c>etc/mdevctl.d</c>), the way mdevctl's listings do.</summary>
public sealed class DeviceInventory(MdevctlEnvironment environment, DefinitionStore definitions, Callouts callouts)
{
    /// <summary>
    /// The active devices. Start mode and the <c>(defined)</c> mark come from a definition on the same
    /// parent; attributes only from a callout script, since the kernel cannot tell them.
    /// </summary>
    public IReadOnlyList<ListedDevice> Active(Guid? uuid = null, string? parent = null)
    {
        var running = uuid is { } wanted
            ? environment.Sysfs.TryGetActiveDevice(wanted, out var one) ? [one] : []
            : environment.Sysfs.GetActiveDevices();
        var listed = running.Where(device => parent is null || device.Parent == parent)
            .Select(device =>
            {
                var (defined, autoStart) = DefinitionOf(device);
                return new ListedDevice(device.Uuid, device.Parent, new DeviceConfig(device.Type, autoStart, []), IsActive: true, IsDefined: defined);
            })
            .ToList()
            .Select(device => device with { Config = device.Config with { Attributes = AttributesFromCallout(new Definition(device.Parent, device.Uuid, device.Config)) } });
        return Sorted(listed);
    }

    /// <summary>The defined devices; <c>(active)</c> when the UUID runs on the same parent with the same type.</summary>
    /// <exception cref="ConfigException">A definition file is not valid.</exception>
    public IReadOnlyList<ListedDevice> Defined(Guid? uuid = null, string? parent = null)
    {
        var active = environment.Sysfs.GetActiveDevices().ToDictionary(device => device.Uuid);
        var listed = definitions.Load(parent, uuid).Select(definition =>
        {
            var running = active.TryGetValue(definition.Uuid, out var device)
                && device.Parent == definition.Parent && device.Type == definition.Config.MdevType;
            return new ListedDevice(definition.Uuid, definition.Parent, definition.Config, running, IsDefined: true);
        });
        return Sorted(listed);
    }

    /// <summary>Each parent's types, parents in byte order, types by id.</summary>
    /// <exception cref="SysfsException">A registered parent has no <c>mdev_supported_types</c>, or a type file cannot be read.</exception>
    public IReadOnlyList<(string Parent, IReadOnlyList<MdevTypeInfo> Types)> Types(string? parent = null)
    {
        var names = environment.Sysfs.GetParentNames().Where(name => parent is null || name == parent).ToArray();
        var types = new IReadOnlyList<MdevTypeInfo>[names.Length];
        ForEachOnAllCores(names.Length, i => types[i] = environment.Sysfs.GetTypes(names[i]));
        return [.. names.Select((name, i) => (name, types[i]))];
    }

    // Reading a parent's types is a few small-file syscalls per type, so with many parents every core can
    // be kept in the kernel: plain threads take the next index in turn (the thread pool and PLINQ cost more
    // to start than a few parents take to read). The first failure in index order is rethrown, as a
    // sequential loop would have thrown it.
    private static void ForEachOnAllCores(int count, Action<int> body)
    {
        const int MinimumPerThread = 8;
        var failures = new ExceptionDispatchInfo?[count];
        var next = -1;
        void Work()
        {
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    failures[i] = ExceptionDispatchInfo.Capture(e);
                }
            }
        }
        var extraThreads = Math.Max(0, Math.Min(Environment.ProcessorCount, count / MinimumPerThread) - 1);
        var helpers = Enumerable.Range(0, extraThreads).Select(_ => new Thread(Work)).ToArray();
        foreach (var thread in helpers)
        {
            thread.Start();
        }
        Work();
        foreach (var thread in helpers)
        {
            thread.Join();
        }
        failures.FirstOrDefault(failure => failure is not null)?.Throw();
    }

    // Whether the running device is defined on its parent, and its start mode from there; an unreadable
    // definition still counts as defined, with manual start, as in mdevctl.
    private (bool Defined, bool AutoStart) DefinitionOf(ActiveDevice device)
    {
        if (!SysfsRoot.IsPathComponent(device.Parent))
        {
            return (false, false);
        }
        try
        {
            return definitions.TryLoad(device.Parent, device.Uuid, out var definition) ? (true, definition.Config.AutoStart) : (false, false);
        }
        catch (ConfigException)
        {
            return (true, false);
        }
    }

    // A script that fails or answers nonsense does not spoil the listing, as in mdevctl.
    private IReadOnlyList<KeyValuePair<string, string>> AttributesFromCallout(Definition device)
    {
        try
        {
            return callouts.GetAttributes(device) ?? [];
        }
        catch (MdevctlException)
        {
            return [];
        }
    }

    // Parents by byte order, then devices by UUID: the UUID's bytes, which is its lowercase text order.
    private static List<ListedDevice> Sorted(IEnumerable<ListedDevice> devices) =>
        [.. devices.OrderBy(device => device.Parent, StringComparer.Ordinal).ThenBy(device => MdevUuid.Format(device.Uuid), StringComparer.Ordinal)];
}
