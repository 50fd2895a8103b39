using System.Text.Json;
using Mdevkit.Management;

namespace Mdevkit.Agent;

/// <summary>
/// <c>/v1/devices</c> and <c>/v1/parents</c> from the view, as <see cref="JsonAnswer"/>s: a parent's devices, and a
/// parent, are serialized again only when the view's snapshot says they changed, and every read until the next
/// change sends the same bytes, so a read costs no scan and no serialization, and a change one parent's.
/// </summary>
internal sealed class Listings(ManagedHost host, HostView view)
{
    private readonly JsonAnswer _devices = new();
    private readonly JsonAnswer _parents = new();

    public HostView View => view;

    /// <summary>Every device, ordered by parent, then UUID.</summary>
    public JsonAnswer.Answer Devices()
    {
        var snapshot = view.Current;
        var groups = Groups();
        var key = string.Join(';', groups.Select(member => $"{member.Name}:{member.Uuid}"));
        return _devices.Get((snapshot, key), () =>
        {
            var memberships = groups.ToLookup(member => member.Uuid, member => member.Name);
            var active = snapshot.ActiveDevices().ToLookup(device => device.Parent, StringComparer.Ordinal);
            var defined = snapshot.DefinedDevices().ToLookup(device => device.Parent, StringComparer.Ordinal);
            return active.Select(parent => parent.Key).Union(defined.Select(parent => parent.Key), StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select(parent => new JsonAnswer.Part(parent, (snapshot.DevicesStamp(parent), key), () =>
                    JsonSerializer.SerializeToUtf8Bytes(Views.Devices([.. active[parent]], [.. defined[parent]], memberships, snapshot.HolderOf), AgentJson.Default.IReadOnlyListDeviceView)));
        });
    }

    /// <summary>Every parent with its types and learned model, ordered by name.</summary>
    /// <remarks>Models are files of mdevkit's own that no event tells of: their texts are read on each request, and a parent's part is kept while its types and its model's text are what it was made from.</remarks>
    public JsonAnswer.Answer Parents()
    {
        var snapshot = view.Current;
        var models = host.CapacityModels.ReadTexts();
        var key = string.Join('\n', models.OrderBy(model => model.Key, StringComparer.Ordinal).Select(model => $"{model.Key}\n{model.Value}"));
        return _parents.Get((snapshot, key), () => snapshot.Types().Select(parent =>
        {
            var text = models.GetValueOrDefault(parent.Parent);
            return new JsonAnswer.Part(parent.Parent, (parent.Types, text), () =>
            {
                IReadOnlyList<ParentView> one = [Views.Parent(parent.Parent, parent.Types, text is null ? null : host.CapacityModels.Parse(parent.Parent, text))];
                return JsonSerializer.SerializeToUtf8Bytes(one, AgentJson.Default.IReadOnlyListParentView);
            });
        }));
    }

    /// <summary>The device on every parent it is defined or runs on.</summary>
    public IReadOnlyList<DeviceView> Of(Guid uuid)
    {
        var snapshot = view.Current;
        return Views.Devices([.. snapshot.ActiveDevices().Where(device => device.Uuid == uuid)], [.. snapshot.DefinedDevices().Where(device => device.Uuid == uuid)],
            Groups().ToLookup(member => member.Uuid, member => member.Name), snapshot.HolderOf);
    }

    /// <summary>Reads <paramref name="change"/> into the view, then the device as it is now.</summary>
    public IReadOnlyList<DeviceView> After(HostChange change, Guid uuid)
    {
        view.Refresh([change]);
        return Of(uuid);
    }

    // Groups are files of mdevkit's own that no event tells of: they are read on each request (a directory listing,
    // no sysfs), and the parts built are kept while they are what the parts were made from.
    private List<(Guid Uuid, string Name)> Groups() =>
        [.. host.Groups.Names().SelectMany(name => host.Groups.Members(name).Select(uuid => (Uuid: uuid, Name: name)))];
}
