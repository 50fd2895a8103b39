using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>Some devices of one type.</summary>
/// <param name="Type">The type-id.</param>
/// <param name="Count">How many.</param>
public sealed record DeviceRequest(string Type, int Count);

/// <summary>One device of a plan: where it goes.</summary>
/// <param name="Parent">The parent it is made on.</param>
/// <param name="Type">Its type.</param>
public sealed record PlannedDevice(string Parent, string Type);

/// <summary>Devices of a type the host cannot take, and why.</summary>
/// <param name="Type">The type.</param>
/// <param name="Count">How many are left over.</param>
/// <param name="Reason">What stands in the way, parent by parent.</param>
public sealed record UnplacedDevices(string Type, int Count, string Reason);

/// <summary>What a parent still offers once the plan is carried out.</summary>
/// <param name="Parent">The parent.</param>
/// <param name="Model">Its capacity model's kind.</param>
/// <param name="Probed">Whether the model was probed (else derived from the current offer, assuming independent types).</param>
/// <param name="Available">Type → instances still available, for the types that have any.</param>
public sealed record ParentOffer(string Parent, CapacityKind Model, bool Probed, IReadOnlyDictionary<string, int> Available);

/// <summary>A placement of requested devices on the host's parents; <c>mdevkit apply</c> carries it out.</summary>
/// <param name="Devices">The devices to make, in request order.</param>
/// <param name="Unplaced">What does not fit.</param>
/// <param name="Offer">What each parent offers afterwards.</param>
public sealed record Plan(IReadOnlyList<PlannedDevice> Devices, IReadOnlyList<UnplacedDevices> Unplaced, IReadOnlyList<ParentOffer> Offer)
{
    /// <summary>The plan as <c>plan --json</c> prints it.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, PlanningJson.Default.Plan) + "\n";

    /// <summary>Reads a plan written by <see cref="ToJson"/>.</summary>
    /// <exception cref="MdevctlException">Not a plan.</exception>
    public static Plan Parse(string text, string path)
    {
        return JsonSyntax.Deserialize(text, PlanningJson.Default.Plan, "a plan", path);
    }
}

/// <summary>
/// Places a request on this host's parents: each parent's stored model (or, when it was never probed or its
/// driver now offers a type the model does not know, its current offer taken as independent types), with
/// what already runs there counted in, packed by <see cref="Packing.Place"/>.
/// </summary>
public sealed partial class Planner(MdevctlEnvironment environment, CapacityStore store)
{
    /// <summary>Reads <c>4x nvidia-12, 2x nvidia-15</c> (a bare type means one).</summary>
    /// <exception cref="MdevctlException">Not a request.</exception>
    public static IReadOnlyList<DeviceRequest> ParseRequest(string text)
    {
        var requests = new List<DeviceRequest>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var match = RequestItem().Match(item);
            if (!match.Success)
            {
                throw new MdevctlException($"Invalid request '{item}': expected COUNTx TYPE, e.g. 4x nvidia-12");
            }
            var count = match.Groups["count"].Success ? int.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture) : 1;
            requests.Add(new DeviceRequest(match.Groups["type"].Value, count));
        }
        return requests.Count > 0 ? requests : throw new MdevctlException("Empty request");
    }

    /// <summary>Reads a request file: a JSON array of <c>{"type": "nvidia-12", "count": 4}</c>.</summary>
    /// <exception cref="MdevctlException">Not a request.</exception>
    public static IReadOnlyList<DeviceRequest> ParseRequestJson(string text, string path)
    {
        var requests = JsonSyntax.Deserialize(text, PlanningJson.Default.ListDeviceRequest, "a request", path);
        return requests.Count > 0 && requests.All(request => request.Count > 0 && request.Type.Length > 0)
            ? requests
            : throw new InvalidInputException($"\"{path}\" is not a request: expected a non-empty array of {{\"type\", \"count\"}} with positive counts");
    }

    /// <summary>Plans <paramref name="requests"/> on the host as it is now.</summary>
    public Plan Plan(IReadOnlyList<DeviceRequest> requests) => Plan(requests, [], []);

    /// <summary>
    /// Plans <paramref name="requests"/> on the host as it will be once <paramref name="leaving"/> are removed and
    /// <paramref name="placed"/> are made where they are placed. The plan's devices are the placed ones that fit,
    /// then the requested ones; a placed device that does not fit on its parent is unplaced, with the reason.
    /// </summary>
    public Plan Plan(IReadOnlyList<DeviceRequest> requests, IReadOnlyList<PlannedDevice> placed, IReadOnlyList<ActiveDevice> leaving)
    {
        var parents = Parents(leaving);
        var misfits = new List<UnplacedDevices>();
        var fitting = new List<PlannedDevice>();
        foreach (var share in placed.GroupBy(device => device.Parent))
        {
            var wanted = share.CountBy(device => device.Type).ToDictionary();
            var index = parents.FindIndex(parent => parent.Bin.Model.Parent == share.Key);
            if (index >= 0 && parents[index].Bin.Model.Fits(Packing.Total(parents[index].Bin, wanted)))
            {
                parents[index] = (parents[index].Bin with { Existing = Packing.Total(parents[index].Bin, wanted) }, parents[index].Probed);
                fitting.AddRange(share);
                continue;
            }
            var reason = index < 0 ? $"{share.Key} is not a registered parent" : $"{share.Key} cannot hold them beside what runs there";
            misfits.AddRange(wanted.Select(count => new UnplacedDevices(count.Key, count.Value, reason)));
        }
        var bins = parents.Select(parent => parent.Bin).ToList();
        var planned = Packing.Place(bins, requests);
        return new Plan([.. fitting, .. Devices(requests, bins, planned)], [.. misfits, .. Unplaced(requests, bins, planned)],
            [.. parents.Select((parent, index) => (parent, index))
                .Where(entry => planned[entry.index].Count > 0 || requests.Any(request => entry.parent.Bin.Model.Offers(request.Type)))
                .Select(entry => Offer(entry.parent.Bin, planned[entry.index], entry.parent.Probed))]);
    }

    /// <summary>Checks that <paramref name="plan"/> still fits the host as it is now, parent by parent.</summary>
    /// <exception cref="MdevctlException">It does not; the causes name each parent that cannot hold its share.</exception>
    public void RequireFits(Plan plan)
    {
        var bins = Parents([]).ToDictionary(parent => parent.Bin.Model.Parent, parent => parent.Bin, StringComparer.Ordinal);
        var misfits = new List<string>();
        foreach (var share in plan.Devices.GroupBy(device => device.Parent))
        {
            var wanted = share.CountBy(device => device.Type).ToDictionary();
            var described = string.Join(", ", wanted.Select(count => $"{count.Value}x {count.Key}"));
            if (!bins.TryGetValue(share.Key, out var bin))
            {
                misfits.Add($"{share.Key} is not a registered parent");
            }
            else if (!bin.Model.Fits(Packing.Total(bin, wanted)))
            {
                misfits.Add($"{share.Key} cannot hold {described} beside what runs there now");
            }
        }
        if (misfits.Count > 0)
        {
            throw new MdevctlException("The plan no longer fits this host; plan again", [.. misfits]);
        }
    }

    // Each parent with its stored model (or, when it was never probed or its driver now offers a type the
    // model does not know, its current offer as independent types) and what already runs on it, but for the
    // devices leaving (whose instances a current offer gets back).
    private List<(Bin Bin, bool Probed)> Parents(IReadOnlyList<ActiveDevice> leaving)
    {
        var gone = leaving.Select(device => device.Uuid).ToHashSet();
        var running = SysfsReads.Read(environment.Sysfs.GetActiveDevices).Where(device => !gone.Contains(device.Uuid)).ToList();
        var parents = new List<(Bin, bool)>();
        foreach (var parent in SysfsReads.Read(environment.Sysfs.GetParentNames).Order(StringComparer.Ordinal))
        {
            var offer = SysfsReads.Read(() => environment.Sysfs.GetTypes(parent));
            // A type the model never saw means the driver changed since the probe: plan from today's offer instead.
            var stored = store.TryLoad(parent) is { } model && offer.All(type => model.Types.Any(known => known.Type == type.Id)) ? model : null;
            parents.Add(stored is not null
                ? (new Bin(stored, running.Where(device => device.Parent == parent).CountBy(device => device.Type).ToDictionary()), true)
                : (new Bin(CapacityModel.FromAvailability(parent, offer.Select(type =>
                    (type.Id, type.AvailableInstances + leaving.Count(device => device.Parent == parent && device.Type == type.Id)))), new Dictionary<string, int>()), false));
        }
        return parents;
    }

    // Devices in request order, each taken from the parents' planned counts in parent order.
    private static List<PlannedDevice> Devices(IReadOnlyList<DeviceRequest> requests, List<Bin> bins, Dictionary<string, int>[] planned)
    {
        var left = planned.Select(counts => new Dictionary<string, int>(counts)).ToArray();
        var devices = new List<PlannedDevice>();
        foreach (var request in requests)
        {
            for (var i = 0; i < request.Count; i++)
            {
                var bin = Array.FindIndex(left, counts => counts.GetValueOrDefault(request.Type) > 0);
                if (bin < 0)
                {
                    break;
                }
                left[bin][request.Type]--;
                devices.Add(new PlannedDevice(bins[bin].Model.Parent, request.Type));
            }
        }
        return devices;
    }

    private static List<UnplacedDevices> Unplaced(IReadOnlyList<DeviceRequest> requests, List<Bin> bins, Dictionary<string, int>[] planned)
    {
        var unplaced = new List<UnplacedDevices>();
        foreach (var type in requests.Select(request => request.Type).Distinct())
        {
            var missing = requests.Where(request => request.Type == type).Sum(request => request.Count) - planned.Sum(counts => counts.GetValueOrDefault(type));
            if (missing == 0)
            {
                continue;
            }
            var reasons = bins.Select((bin, index) => (bin, index)).Where(entry => entry.bin.Model.Offers(type))
                .Select(entry => Reason(entry.bin, Packing.Total(entry.bin, planned[entry.index]), type)).ToList();
            unplaced.Add(new UnplacedDevices(type, missing, reasons.Count == 0 ? $"no parent offers {type}" : string.Join("; ", reasons)));
        }
        return unplaced;
    }

    private static string Reason(Bin bin, Dictionary<string, int> counts, string type)
    {
        var parent = bin.Model.Parent;
        return bin.Model.Kind switch
        {
            CapacityKind.Exclusive when counts.FirstOrDefault(count => count.Key != type && count.Value > 0) is { Key: { } other } =>
                $"{parent} holds {other} (one type at a time)",
            CapacityKind.SharedPool => $"{parent}'s pool is full",
            _ => $"{parent} has no {type} left",
        };
    }

    private static ParentOffer Offer(Bin bin, Dictionary<string, int> planned, bool probed)
    {
        var total = Packing.Total(bin, planned);
        var available = bin.Model.Types.Select(type => (type.Type, Available: bin.Model.Available(type.Type, total)))
            .Where(type => type.Available > 0).ToDictionary(type => type.Type, type => type.Available);
        return new ParentOffer(bin.Model.Parent, bin.Model.Kind, probed, available);
    }

    [GeneratedRegex(@"^(?:(?<count>[1-9][0-9]{0,5})\s*[x×]\s*)?(?<type>[A-Za-z0-9_.:-]+)$")]
    private static partial Regex RequestItem();
}
