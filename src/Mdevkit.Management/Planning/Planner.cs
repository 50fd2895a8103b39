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
/// Places a request on this host's parents: each parent's stored model (or, when it was never probed or its driver now
/// offers a type the model does not know, its current offer taken as independent types), with what already runs there
/// counted in, packed by <see cref="Packing.Place"/>. An NVIDIA SR-IOV GPU is one parent, its physical function, planned
/// by its probed model only (its virtual functions share it); each of its devices goes on a free virtual function, one
/// that neither runs a device nor has a definition, including those it would have once its virtual functions are enabled.
/// </summary>
public sealed partial class Planner(CapacityStore store, KernelDevices kernel, DefinitionStore definitions)
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
        var host = Host(leaving);
        var placeOf = PlaceOf(host.Parents);
        // A GPU that was never probed has no model to check against: the kernel checks its devices when they are made.
        var unmodelled = host.UnprobedGpus.SelectMany(gpu => gpu.VirtualFunctions).ToHashSet(StringComparer.Ordinal);
        var parents = host.Parents.ToList();
        var misfits = new List<UnplacedDevices>();
        var fitting = new List<PlannedDevice>(placed.Where(device => unmodelled.Contains(device.Parent)));
        foreach (var unknown in placed.Where(device => !placeOf.ContainsKey(device.Parent) && !unmodelled.Contains(device.Parent)).GroupBy(device => device.Parent))
        {
            misfits.AddRange(unknown.CountBy(device => device.Type).Select(count => new UnplacedDevices(count.Key, count.Value, $"{unknown.Key} is not a registered parent")));
        }
        foreach (var share in placed.Where(device => placeOf.ContainsKey(device.Parent)).GroupBy(device => placeOf[device.Parent]))
        {
            var wanted = share.CountBy(device => device.Type).ToDictionary();
            var reasons = Misfits(share.Key, [.. share], "cannot hold them beside what runs there");
            if (reasons.Count > 0)
            {
                misfits.AddRange(wanted.Select(count => new UnplacedDevices(count.Key, count.Value, string.Join("; ", reasons))));
                continue;
            }
            // What is placed runs there once made: its functions are no longer free for the requests.
            var taken = share.Select(device => device.Parent).ToHashSet(StringComparer.Ordinal);
            parents[parents.FindIndex(parent => ReferenceEquals(parent, share.Key))] = share.Key with
            {
                Bin = share.Key.Bin with { Existing = Packing.Total(share.Key.Bin, wanted) },
                FreeFunctions = share.Key.FreeFunctions?.Where(function => !taken.Contains(function)).ToList(),
            };
            fitting.AddRange(share);
        }
        host = host with { Parents = parents };
        var bins = parents.Select(parent => parent.Bin).ToList();
        var planned = Packing.Place(bins, requests);
        return new Plan([.. fitting, .. Devices(requests, parents, planned)], [.. misfits, .. Unplaced(requests, host, planned)],
            [.. parents.Select((parent, index) => (parent, index))
                .Where(entry => planned[entry.index].Count > 0 || requests.Any(request => entry.parent.Bin.Model.Offers(request.Type)))
                .Select(entry => Offer(entry.parent.Bin, planned[entry.index], entry.parent.Probed))]);
    }

    /// <summary>
    /// Plans one device of <paramref name="type"/> on the NVIDIA SR-IOV GPU whose physical function is
    /// <paramref name="gpu"/>, as <see cref="Plan(IReadOnlyList{DeviceRequest})"/> would place it there: on the GPU's
    /// first free virtual function, when its probed model holds one more beside what runs on it.
    /// </summary>
    /// <returns>The plan, with its one device or the reason it does not fit; null when <paramref name="gpu"/> is no such GPU.</returns>
    public Plan? PlanOnGpu(string gpu, string type)
    {
        var host = Host([]);
        var request = new DeviceRequest(type, 1);
        if (host.UnprobedGpus.FirstOrDefault(candidate => candidate.Function == gpu) is { } unprobed)
        {
            return new Plan([], [new UnplacedDevices(type, 1, NotProbed(unprobed))], []);
        }
        if (host.Parents.FirstOrDefault(parent => parent.Gpu?.Function == gpu) is not { } target)
        {
            return null;
        }
        var planned = Packing.Place([target.Bin], [request]);
        return new Plan(Devices([request], [target], planned), Unplaced([request], new HostParents([target], []), planned), [Offer(target.Bin, planned[0], target.Probed)]);
    }

    /// <summary>
    /// Checks that <paramref name="plan"/> still fits the host as it is now, parent by parent (a GPU's virtual functions
    /// as their GPU, each free and used once).
    /// </summary>
    /// <returns>The GPUs whose virtual functions the plan needs enabled.</returns>
    /// <exception cref="MdevctlException">It does not; the causes name each parent that cannot hold its share.</exception>
    public IReadOnlyList<SriovGpu> RequireFits(Plan plan)
    {
        var parents = Host([]).Parents;
        var placeOf = PlaceOf(parents);
        var misfits = new List<string>();
        foreach (var unknown in plan.Devices.Select(device => device.Parent).Where(name => !placeOf.ContainsKey(name)).Distinct())
        {
            misfits.Add($"{unknown} is not a registered parent");
        }
        foreach (var share in plan.Devices.Where(device => placeOf.ContainsKey(device.Parent)).GroupBy(device => placeOf[device.Parent]))
        {
            var described = string.Join(", ", share.CountBy(device => device.Type).Select(count => $"{count.Value}x {count.Key}"));
            misfits.AddRange(Misfits(share.Key, [.. share], $"cannot hold {described} beside what runs there now"));
        }
        if (misfits.Count > 0)
        {
            throw new MdevctlException("The plan no longer fits this host; plan again", [.. misfits]);
        }
        var used = plan.Devices.Select(device => placeOf[device.Parent]).ToHashSet();
        return [.. parents.Where(parent => used.Contains(parent) && parent.Gpu is { Enabled: false }).Select(parent => parent.Gpu!)];
    }

    // A parent as planned: its bin; for a GPU, the GPU and its free virtual functions in order.
    private sealed record PlanningParent(Bin Bin, bool Probed, SriovGpu? Gpu = null, IReadOnlyList<string>? FreeFunctions = null);

    // What the host offers: its parents, and the GPUs that cannot be planned on before they are probed (again).
    private sealed record HostParents(IReadOnlyList<PlanningParent> Parents, IReadOnlyList<SriovGpu> UnprobedGpus);

    // Where a device named on a parent is planned: the parent, or the GPU of a virtual function.
    private static Dictionary<string, PlanningParent> PlaceOf(IReadOnlyList<PlanningParent> parents)
    {
        var placeOf = new Dictionary<string, PlanningParent>(StringComparer.Ordinal);
        foreach (var parent in parents)
        {
            foreach (var name in parent.Gpu?.VirtualFunctions ?? [parent.Bin.Model.Parent])
            {
                placeOf[name] = parent;
            }
        }
        return placeOf;
    }

    // Why a share of devices cannot go on its parent beside what runs there (a GPU's each on a free virtual function of
    // its own); none when it can. When they do not fit, the parent's name is followed by cannotHold.
    private static List<string> Misfits(PlanningParent parent, IReadOnlyList<PlannedDevice> share, string cannotHold)
    {
        var bin = parent.Bin;
        var misfits = new List<string>();
        if (parent.FreeFunctions is { } free)
        {
            misfits.AddRange(share.CountBy(device => device.Parent).Where(function => function.Value > 1 || !free.Contains(function.Key))
                .Select(function => $"{function.Key} is not a free virtual function of {bin.Model.Parent}"));
        }
        if (!bin.Model.Fits(Packing.Total(bin, share.CountBy(device => device.Type).ToDictionary())))
        {
            misfits.Add($"{bin.Model.Parent} {cannotHold}");
        }
        return misfits;
    }

    // Each parent with its stored model (or, when it was never probed or its driver now offers a type the model does not
    // know, its current offer as independent types) and what already runs on it; each NVIDIA SR-IOV GPU with its model.
    // The devices leaving are taken away: their instances go back to a current offer, their functions are free again.
    private HostParents Host(IReadOnlyList<ActiveDevice> leaving)
    {
        var gone = leaving.Select(device => device.Uuid).ToHashSet();
        var running = SysfsReads.Read(kernel.Active).Where(device => !gone.Contains(device.Uuid)).ToList();
        var gpus = SysfsReads.Read(kernel.NvidiaGpus);
        var onGpus = gpus.SelectMany(gpu => gpu.VirtualFunctions).ToHashSet(StringComparer.Ordinal);
        var parents = new List<PlanningParent>();
        var unprobed = new List<SriovGpu>();
        foreach (var parent in SysfsReads.Read(kernel.ParentNames).Where(name => !onGpus.Contains(name)))
        {
            var offer = SysfsReads.Read(() => kernel.Types(parent));
            // A type the model never saw means the driver changed since the probe: plan from today's offer instead.
            parents.Add(Current(store.TryLoad(parent), offer) is { } model
                ? new PlanningParent(new Bin(model, running.Where(device => device.Parent == parent).CountBy(device => device.Type).ToDictionary()), true)
                : new PlanningParent(new Bin(CapacityModel.FromAvailability(parent, offer.Select(type =>
                    (type.Id, type.AvailableInstances + leaving.Count(device => device.Parent == parent && device.Type == type.Id)))), new Dictionary<string, int>()), false));
        }
        var defined = definitions.Load().Select(definition => definition.Parent).ToHashSet(StringComparer.Ordinal);
        foreach (var gpu in gpus)
        {
            var busy = running.Where(device => gpu.VirtualFunctions.Contains(device.Parent)).ToList();
            var free = gpu.VirtualFunctions.Where(function => !defined.Contains(function) && busy.All(device => device.Parent != function)).ToList();
            var offer = gpu.Enabled && free.Count > 0 ? SysfsReads.Read(() => kernel.Types(free[0])) : [];
            if (Current(store.TryLoad(gpu.Function), offer) is not { Slots: not null } model)
            {
                unprobed.Add(gpu);
                continue;
            }
            // Only free virtual functions take planned devices; the ones in use hold what runs.
            parents.Add(new PlanningParent(new Bin(model with { Slots = busy.Count + free.Count }, busy.CountBy(device => device.Type).ToDictionary()), true, gpu, free));
        }
        return new HostParents([.. parents.OrderBy(parent => parent.Bin.Model.Parent, StringComparer.Ordinal)], unprobed);
    }

    private static CapacityModel? Current(CapacityModel? stored, IReadOnlyList<MdevTypeInfo> offer) =>
        stored is not null && offer.All(type => stored.Types.Any(known => known.Type == type.Id)) ? stored : null;

    // Devices in request order, each taken from the parents' planned counts in parent order; a GPU's on its next free virtual function.
    private static List<PlannedDevice> Devices(IReadOnlyList<DeviceRequest> requests, IReadOnlyList<PlanningParent> parents, Dictionary<string, int>[] planned)
    {
        var left = planned.Select(counts => new Dictionary<string, int>(counts)).ToArray();
        var functionsUsed = new int[parents.Count];
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
                devices.Add(new PlannedDevice(parents[bin].FreeFunctions is { } free ? free[functionsUsed[bin]++] : parents[bin].Bin.Model.Parent, request.Type));
            }
        }
        return devices;
    }

    private static List<UnplacedDevices> Unplaced(IReadOnlyList<DeviceRequest> requests, HostParents host, Dictionary<string, int>[] planned)
    {
        var unplaced = new List<UnplacedDevices>();
        foreach (var type in requests.Select(request => request.Type).Distinct())
        {
            var missing = requests.Where(request => request.Type == type).Sum(request => request.Count) - planned.Sum(counts => counts.GetValueOrDefault(type));
            if (missing == 0)
            {
                continue;
            }
            var reasons = host.Parents.Select((parent, index) => (parent.Bin, index)).Where(entry => entry.Bin.Model.Offers(type))
                .Select(entry => Reason(entry.Bin, Packing.Total(entry.Bin, planned[entry.index]), type)).ToList();
            unplaced.Add(new UnplacedDevices(type, missing, string.Join("; ", [.. reasons.Count == 0 ? [$"no parent offers {type}"] : reasons,
                .. host.UnprobedGpus.Select(NotProbed)])));
        }
        return unplaced;
    }

    private static string NotProbed(SriovGpu gpu) => $"GPU {gpu.Function} is not planned on before it is probed (mdevkit probe {gpu.Function})";

    private static string Reason(Bin bin, Dictionary<string, int> counts, string type)
    {
        var parent = bin.Model.Parent;
        return bin.Model.Kind switch
        {
            CapacityKind.Exclusive when counts.FirstOrDefault(count => count.Key != type && count.Value > 0) is { Key: { } other } =>
                $"{parent} holds {other} (one type at a time)",
            CapacityKind.OneSize when counts.FirstOrDefault(count => count.Value > 0 && bin.Model.SizeOf(count.Key) != bin.Model.SizeOf(type)) is { Key: { } other } =>
                $"{parent} holds {other} (one framebuffer size at a time)",
            _ when bin.Model.Slots is { } slots && counts.Values.Sum() >= slots => $"{parent} has no free virtual function",
            CapacityKind.SharedPool => $"{parent}'s {(bin.Model.Slots is null ? "pool" : "framebuffer")} is full",
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
