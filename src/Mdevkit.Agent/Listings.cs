using System.Text.Json;
using Mdevkit.Management;

namespace Mdevkit.Agent;

/// <summary>
/// <c>/v1/devices</c> from the view: the list is built and serialized once per state of the host and of the groups,
/// and every read until the next change sends the same bytes, so a read costs no scan and no serialization.
/// </summary>
internal sealed class DeviceListing(ManagedHost host, HostView view)
{
    private sealed record Built(HostSnapshot Snapshot, string Groups, IReadOnlyList<DeviceView> Devices, byte[] Json);

    private readonly Lock _building = new();
    private Built? _last;

    public HostView View => view;

    /// <summary>Every device, as JSON.</summary>
    public IResult Json() => Results.Bytes(Current().Json, "application/json; charset=utf-8");

    /// <summary>The device on every parent it is defined or runs on.</summary>
    public IReadOnlyList<DeviceView> Of(Guid uuid) => [.. Current().Devices.Where(device => device.Uuid == uuid)];

    /// <summary>Reads <paramref name="change"/> into the view, then the device as it is now.</summary>
    public IReadOnlyList<DeviceView> After(HostChange change, Guid uuid)
    {
        view.Refresh([change]);
        return Of(uuid);
    }

    // Groups are files of mdevkit's own that no event tells of: they are read on each request (a directory
    // listing, no sysfs), and the built list is reused while they and the view are what it was built from.
    private Built Current()
    {
        var snapshot = view.Current;
        var groups = host.Groups.Names().SelectMany(name => host.Groups.Members(name).Select(uuid => (Uuid: uuid, Name: name))).ToList();
        var groupsKey = string.Join(';', groups.Select(member => $"{member.Name}:{member.Uuid}"));
        if (Volatile.Read(ref _last) is { } last && last.Snapshot == snapshot && last.Groups == groupsKey)
        {
            return last;
        }
        // One reader builds while the others wait for its result, rather than each building the same list.
        lock (_building)
        {
            if (_last is { } built && built.Snapshot == snapshot && built.Groups == groupsKey)
            {
                return built;
            }
            var devices = Views.Devices(snapshot.ActiveDevices(), snapshot.DefinedDevices(), groups.ToLookup(member => member.Uuid, member => member.Name));
            built = new Built(snapshot, groupsKey, devices, JsonSerializer.SerializeToUtf8Bytes(devices, AgentJson.Default.IReadOnlyListDeviceView));
            Volatile.Write(ref _last, built);
            return built;
        }
    }
}
