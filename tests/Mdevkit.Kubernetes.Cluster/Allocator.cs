using k8s.Models;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// Structured-parameters allocation with counters, as the scheduler does it for a ResourceClaim: over complete pools
/// only (all <c>resourceSliceCount</c> slices of the highest generation), every request's devices on one node, each
/// device matching its class's and its request's selectors (<see cref="AllocatorSelectors"/>), not allocated yet,
/// its consumptions fitting what the allocated devices leave of each counter, and its compatibility groups meeting
/// those of the devices already allocated from the same counter set. Requests are <c>ExactCount</c>; constraints,
/// <c>firstAvailable</c>, admin access and consumable capacity are refused rather than ignored. Nodes are tried in the
/// order their pools first appear, devices in slice order; within a node the search backtracks over the requests.
/// </summary>
/// <param name="classes">The DeviceClasses claims name.</param>
public sealed partial class Allocator(IReadOnlyList<V1DeviceClass> classes)
{
    /// <summary>The node selector field the scheduler pins an allocation to.</summary>
    public const string NodeNameField = "metadata.name";

    private sealed record Pool(string Driver, string Name, string? Node, IReadOnlyDictionary<string, IReadOnlyDictionary<string, decimal>> Sets, IReadOnlyList<V1Device> Devices)
    {
        public Dictionary<string, V1Device> ByName { get; } = Devices.ToDictionary(device => device.Name);
    }

    // The last slices allocated from, read once: a stream of claims is allocated against the same slices.
    private (IReadOnlyList<V1ResourceSlice> Slices, List<Pool> Pools, List<Candidate> Candidates)? _read;

    private sealed record Candidate(Pool Pool, V1Device Device, string Signature);

    private sealed record Slot(string Request, int RequestIndex, IReadOnlyList<AllocatorSelectors.Matcher> Matchers);

    /// <summary>Allocates <paramref name="claim"/> beside <paramref name="allocated"/>.</summary>
    /// <returns>The allocation to write to the claim's status, or null when no node can take it.</returns>
    /// <exception cref="NotSupportedException">The claim uses something the allocator does not implement.</exception>
    /// <exception cref="InvalidOperationException">The claim names a DeviceClass that does not exist.</exception>
    public V1AllocationResult? Allocate(IReadOnlyList<V1ResourceSlice> slices, IEnumerable<Resourcev1ResourceClaim> allocated, Resourcev1ResourceClaim claim)
    {
        var slots = Slots(claim);
        if (_read is not { } read || !ReferenceEquals(read.Slices, slices))
        {
            var complete = CompletePools(slices);
            _read = read = (slices, complete, [.. complete.SelectMany(pool => pool.Devices.Select(device => new Candidate(pool, device, Signature(pool, device))))]);
        }
        var taken = Results(allocated).ToList();
        foreach (var node in read.Pools.Where(pool => pool.Node is not null).GroupBy(pool => pool.Node!))
        {
            var candidates = read.Candidates.Where(candidate => candidate.Pool.Node == node.Key).ToList();
            var usage = Usage.Of(node, taken);
            var chosen = new List<(Slot Slot, Candidate Candidate)>();
            var used = taken.Select(result => (result.Pool, result.Device)).ToHashSet();
            if (Place(0, -1))
            {
                return new V1AllocationResult
                {
                    Devices = new V1DeviceAllocationResult
                    {
                        Results = [.. chosen.Select(choice => new V1DeviceRequestAllocationResult
                        {
                            Request = choice.Slot.Request,
                            Driver = choice.Candidate.Pool.Driver,
                            Pool = choice.Candidate.Pool.Name,
                            Device = choice.Candidate.Device.Name,
                        })],
                    },
                    NodeSelector = new V1NodeSelector
                    {
                        NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = NodeNameField, OperatorProperty = "In", Values = [node.Key] }] }],
                    },
                };
            }

            // Fills slot index onward; devices of one request in list order so that each set is tried once, and of
            // devices alike (same pool, attributes and consumptions) only the first, since the others fare the same.
            bool Place(int index, int after)
            {
                if (index == slots.Count)
                {
                    return true;
                }
                var slot = slots[index];
                var tried = new HashSet<string>(StringComparer.Ordinal);
                for (var i = index > 0 && slots[index - 1].RequestIndex == slot.RequestIndex ? after + 1 : 0; i < candidates.Count; i++)
                {
                    var candidate = candidates[i];
                    if (used.Contains((candidate.Pool.Name, candidate.Device.Name)) || !slot.Matchers.All(match => match(candidate.Pool.Driver, candidate.Device))
                        || !tried.Add(candidate.Signature) || !usage.TryTake(candidate.Pool, candidate.Device))
                    {
                        continue;
                    }
                    used.Add((candidate.Pool.Name, candidate.Device.Name));
                    chosen.Add((slot, candidate));
                    if (Place(index + 1, i))
                    {
                        return true;
                    }
                    chosen.RemoveAt(chosen.Count - 1);
                    used.Remove((candidate.Pool.Name, candidate.Device.Name));
                    usage.Give(candidate.Pool, candidate.Device);
                }
                return false;
            }
        }
        return null;
    }

    /// <summary>
    /// Checks allocations from scratch: each device allocated once and present in a complete pool, every counter set's
    /// consumption within its counters, and the compatibility groups of each set's devices meeting.
    /// </summary>
    /// <returns>What is wrong, one line each; empty when nothing is.</returns>
    public static IReadOnlyList<string> Check(IReadOnlyList<V1ResourceSlice> slices, IEnumerable<Resourcev1ResourceClaim> allocated)
    {
        var pools = CompletePools(slices);
        var results = Results(allocated).ToList();
        var problems = results.CountBy(result => (result.Pool, result.Device)).Where(count => count.Value > 1)
            .Select(count => $"Device {count.Key.Device} of pool {count.Key.Pool} is allocated {count.Value} times").ToList();
        problems.AddRange(results.Where(result => !pools.Any(pool => pool.Name == result.Pool && pool.ByName.ContainsKey(result.Device)))
            .Select(result => $"Device {result.Device} of pool {result.Pool} is not published"));
        foreach (var pool in pools)
        {
            var devices = results.Where(result => result.Pool == pool.Name).Select(result => pool.ByName.GetValueOrDefault(result.Device)).OfType<V1Device>().ToList();
            var consumptions = devices.SelectMany(device => device.ConsumesCounters ?? []).GroupBy(consumption => consumption.CounterSet);
            foreach (var set in consumptions)
            {
                foreach (var counter in set.SelectMany(consumption => consumption.Counters).GroupBy(counter => counter.Key))
                {
                    var sum = counter.Sum(consumed => consumed.Value.Value.ToDecimal());
                    var value = pool.Sets.GetValueOrDefault(set.Key)?.GetValueOrDefault(counter.Key) ?? 0;
                    if (sum > value)
                    {
                        problems.Add($"Counter {counter.Key} of set {set.Key} in pool {pool.Name}: {sum} allocated of {value}");
                    }
                }
                var groups = set.Select(consumption => consumption.CompatibilityGroups?.ToList() ?? []).ToList();
                if (!Usage.Compatible(groups))
                {
                    problems.Add($"Counter set {set.Key} in pool {pool.Name} holds devices of incompatible groups: {string.Join(" | ", groups.Select(group => string.Join(",", group)))}");
                }
            }
        }
        return problems;
    }

    private List<Slot> Slots(Resourcev1ResourceClaim claim)
    {
        var devices = claim.Spec.Devices ?? throw new NotSupportedException("A claim without devices");
        if (devices.Constraints is { Count: > 0 })
        {
            throw new NotSupportedException("The allocator does not implement claim constraints");
        }
        var slots = new List<Slot>();
        foreach (var (request, index) in devices.Requests.Select((request, index) => (request, index)))
        {
            var exactly = request.Exactly ?? throw new NotSupportedException($"Request {request.Name}: the allocator implements only 'exactly' requests");
            if (exactly.AllocationMode is not (null or "ExactCount") || exactly.AdminAccess == true || exactly.Capacity is not null)
            {
                throw new NotSupportedException($"Request {request.Name}: the allocator implements only ExactCount without admin access or capacity");
            }
            var deviceClass = classes.FirstOrDefault(candidate => candidate.Metadata.Name == exactly.DeviceClassName)
                ?? throw new InvalidOperationException($"Request {request.Name}: DeviceClass {exactly.DeviceClassName} does not exist");
            List<AllocatorSelectors.Matcher> matchers = [.. (deviceClass.Spec.Selectors ?? []).Concat(exactly.Selectors ?? []).Select(selector => AllocatorSelectors.Compile(selector.Cel.Expression))];
            slots.AddRange(Enumerable.Repeat(new Slot(request.Name, index, matchers), (int)(exactly.Count ?? 1)));
        }
        return slots;
    }

    private static IEnumerable<V1DeviceRequestAllocationResult> Results(IEnumerable<Resourcev1ResourceClaim> claims) =>
        claims.SelectMany(claim => claim.Status?.Allocation?.Devices?.Results ?? []);

    // Each driver's pools whose highest generation has all its slices.
    private static List<Pool> CompletePools(IReadOnlyList<V1ResourceSlice> slices)
    {
        var pools = new List<Pool>();
        foreach (var pool in slices.GroupBy(slice => (slice.Spec.Driver, slice.Spec.Pool.Name)))
        {
            var generation = pool.Max(slice => slice.Spec.Pool.Generation);
            var current = pool.Where(slice => slice.Spec.Pool.Generation == generation).ToList();
            if (current.Count != current[0].Spec.Pool.ResourceSliceCount)
            {
                continue;
            }
            pools.Add(new Pool(pool.Key.Driver, pool.Key.Name, current[0].Spec.NodeName,
                current.SelectMany(slice => slice.Spec.SharedCounters ?? []).ToDictionary(set => set.Name,
                    set => (IReadOnlyDictionary<string, decimal>)set.Counters.ToDictionary(counter => counter.Key, counter => counter.Value.Value.ToDecimal())),
                [.. current.SelectMany(slice => slice.Spec.Devices ?? [])]));
        }
        return pools;
    }

    private static string Signature(Pool pool, V1Device device) =>
        string.Join('\n', [pool.Name,
            .. (device.Attributes ?? new Dictionary<string, V1DeviceAttribute>()).OrderBy(attribute => attribute.Key, StringComparer.Ordinal)
                .Select(attribute => $"{attribute.Key}={attribute.Value.StringValue}{attribute.Value.IntValue}{attribute.Value.BoolValue}{attribute.Value.Version}"),
            .. (device.ConsumesCounters ?? []).Select(consumption => $"{consumption.CounterSet}:{string.Join(",", consumption.Counters.OrderBy(counter => counter.Key, StringComparer.Ordinal).Select(counter => $"{counter.Key}={counter.Value.Value}"))}:{string.Join(",", consumption.CompatibilityGroups ?? [])}")]);
}
