using Mdevkit.Management;
using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Agent;

/// <summary>A parent as the API shows it: what it offers now, and the capacity model <c>probe</c> learned, if any.</summary>
public sealed record ParentView(string Name, IReadOnlyList<TypeView> Types, CapacityModel? Model);

/// <summary>One type of a parent, as its sysfs files say now.</summary>
public sealed record TypeView(string Id, string? Name, string? Description, string DeviceApi, int AvailableInstances)
{
    public static TypeView From(MdevTypeInfo type) => new(type.Id, type.Name, type.Description, type.DeviceApi, type.AvailableInstances);
}

/// <summary>
/// A device: running, defined, or both. A defined device carries its definition's start mode and
/// attributes; a running one that is not defined on its parent is transient (manual, no attributes known). A running
/// device that a process has open names it as its holder.
/// </summary>
public sealed record DeviceView(Guid Uuid, string Parent, string Type, bool Active, bool Defined, bool AutoStart, IReadOnlyList<AttributeView> Attributes, IReadOnlyList<string> Groups,
    DeviceHolder? Holder);

/// <summary>One attribute of a definition, in the order they are written.</summary>
public sealed record AttributeView(string Name, string Value);

/// <summary>A named group of devices started and stopped all or nothing.</summary>
public sealed record GroupView(string Name, IReadOnlyList<Guid> Members);

/// <summary>An error, as RFC 9457 problem details: what failed (<see cref="Detail"/>, mdevctl's message) and why (<see cref="Causes"/>).</summary>
public sealed record ProblemView(string Type, string Title, int Status, string Detail, IReadOnlyList<string>? Causes = null);

/// <summary>Builds the views from Management's listings.</summary>
internal static class Views
{
    public static ParentView Parent(string name, IReadOnlyList<MdevTypeInfo> types, CapacityModel? model) =>
        new(name, [.. types.Select(TypeView.From)], model);

    // Each (uuid, parent) once: a definition, running or not, and every running device not defined on its parent.
    public static IReadOnlyList<DeviceView> Devices(IReadOnlyList<ListedDevice> active, IReadOnlyList<ListedDevice> defined, ILookup<Guid, string> groups, Func<Guid, DeviceHolder?> holderOf)
    {
        var definedKeys = defined.Select(device => (device.Uuid, device.Parent)).ToHashSet();
        var transient = active.Where(device => !definedKeys.Contains((device.Uuid, device.Parent)));
        return [.. defined.Concat(transient)
            .OrderBy(device => device.Parent, StringComparer.Ordinal).ThenBy(device => device.Uuid)
            .Select(device => Device(device, groups[device.Uuid], device.IsActive ? holderOf(device.Uuid) : null))];
    }

    private static DeviceView Device(ListedDevice device, IEnumerable<string> groups, DeviceHolder? holder) => new(
        device.Uuid, device.Parent, device.Config.MdevType, device.IsActive, device.IsDefined, device.Config.AutoStart,
        [.. device.Config.Attributes.Select(pair => new AttributeView(pair.Key, pair.Value))], [.. groups], holder);
}
