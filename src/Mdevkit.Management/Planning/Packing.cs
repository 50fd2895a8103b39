namespace Mdevkit.Management.Planning;

/// <summary>A parent as the packer sees it: its model and the devices it already carries, by type.</summary>
/// <param name="Model">What it can hold.</param>
/// <param name="Existing">Devices already there; they stay where they are.</param>
public sealed record Bin(CapacityModel Model, IReadOnlyDictionary<string, int> Existing);

/// <summary>
/// Places counts of typed devices on parents with capacity models, maximizing how many are placed.
/// <see cref="Place"/> is the planner: best-fit of whole type groups under several orders (largest
/// first, smallest first, biggest demand first) or first-fit, whichever places most, then a local search that evicts planned devices from
/// a parent to make room for an unplaced type and re-places them elsewhere. <see cref="FirstFit"/> and the
/// plan-quality bench's exhaustive search are the yardsticks it is measured against.
/// </summary>
public static class Packing
{
    private const int LocalSearchRounds = 32;

    /// <summary>The planned counts per bin (existing devices not included).</summary>
    public static Dictionary<string, int>[] Place(IReadOnlyList<Bin> bins, IReadOnlyList<DeviceRequest> requests)
    {
        var demand = Merge(requests);
        var footprint = demand.Keys.ToDictionary(type => type, type => bins.Where(bin => bin.Model.Offers(type)).Select(bin => bin.Model.Footprint(type)).DefaultIfEmpty(0).Average());
        IEnumerable<string>[] orders =
        [
            demand.Keys.OrderByDescending(type => footprint[type]),
            demand.Keys.OrderBy(type => footprint[type]),
            demand.Keys.OrderByDescending(type => footprint[type] * demand[type]),
        ];
        // First-fit in request order is one more candidate, so the planner never does worse than it.
        var best = orders.Select(order => Greedy(bins, demand, order)).Append(FirstFit(bins, requests)).MaxBy(candidate => (Placed(candidate), Slack(bins, candidate)))!;
        ImproveLocally(bins, demand, best);
        return best;
    }

    /// <summary>The baseline: each device in request order on the first parent with room.</summary>
    public static Dictionary<string, int>[] FirstFit(IReadOnlyList<Bin> bins, IReadOnlyList<DeviceRequest> requests)
    {
        var planned = Empty(bins);
        foreach (var request in requests)
        {
            for (var i = 0; i < request.Count; i++)
            {
                var bin = Enumerable.Range(0, bins.Count).FirstOrDefault(index => Room(bins, planned, index, request.Type) > 0, -1);
                if (bin >= 0)
                {
                    Add(planned[bin], request.Type, 1);
                }
            }
        }
        return planned;
    }

    /// <summary>How many devices a placement holds.</summary>
    public static int Placed(IEnumerable<Dictionary<string, int>> planned) => planned.Sum(bin => bin.Values.Sum());

    /// <summary>What a bin still offers of <paramref name="type"/> beside its existing and planned devices.</summary>
    public static int Room(IReadOnlyList<Bin> bins, Dictionary<string, int>[] planned, int bin, string type) =>
        bins[bin].Model.Available(type, Total(bins[bin], planned[bin]));

    /// <summary>Existing and planned devices of one bin together.</summary>
    public static Dictionary<string, int> Total(Bin bin, IReadOnlyDictionary<string, int> planned)
    {
        var total = new Dictionary<string, int>(bin.Existing);
        foreach (var (type, count) in planned)
        {
            Add(total, type, count);
        }
        return total;
    }

    // Places each type's whole group in turn: on the bin that takes all of it with the least room left
    // (best fit), else on the bin that takes the most, until the group is placed or nothing takes it.
    private static Dictionary<string, int>[] Greedy(IReadOnlyList<Bin> bins, Dictionary<string, int> demand, IEnumerable<string> order)
    {
        var planned = Empty(bins);
        foreach (var type in order)
        {
            PlaceGroup(bins, planned, type, demand[type]);
        }
        return planned;
    }

    private static int PlaceGroup(IReadOnlyList<Bin> bins, Dictionary<string, int>[] planned, string type, int count)
    {
        var placed = 0;
        while (placed < count)
        {
            var left = count - placed;
            var candidates = Enumerable.Range(0, bins.Count).Select(bin => (Bin: bin, Take: Math.Min(left, Room(bins, planned, bin, type)))).Where(candidate => candidate.Take > 0).ToList();
            if (candidates.Count == 0)
            {
                break;
            }
            var whole = candidates.Where(candidate => candidate.Take == left).ToList();
            var chosen = whole.Count > 0
                ? whole.MinBy(candidate => SlackAfter(bins, planned, candidate.Bin, type, left))
                : candidates.MaxBy(candidate => candidate.Take);
            Add(planned[chosen.Bin], type, chosen.Take);
            placed += chosen.Take;
        }
        return placed;
    }

    private static double SlackAfter(IReadOnlyList<Bin> bins, Dictionary<string, int>[] planned, int bin, string type, int count)
    {
        var after = Total(bins[bin], planned[bin]);
        Add(after, type, count);
        return bins[bin].Model.Slack(after);
    }

    // For each type with devices left over, tries every bin that offers it: evict what was planned there,
    // fill it with the type, re-place the evicted elsewhere; keep the change only if more devices end up placed.
    private static void ImproveLocally(IReadOnlyList<Bin> bins, Dictionary<string, int> demand, Dictionary<string, int>[] planned)
    {
        for (var round = 0; round < LocalSearchRounds; round++)
        {
            var improved = false;
            foreach (var type in demand.Keys)
            {
                for (var bin = 0; bin < bins.Count && Unplaced(demand, planned, type) > 0; bin++)
                {
                    if (!bins[bin].Model.Offers(type))
                    {
                        continue;
                    }
                    var trial = planned.Select(counts => new Dictionary<string, int>(counts)).ToArray();
                    var evicted = trial[bin].Where(count => count.Key != type).ToList();
                    foreach (var (other, _) in evicted)
                    {
                        trial[bin].Remove(other);
                    }
                    Add(trial[bin], type, Math.Min(Unplaced(demand, trial, type), Room(bins, trial, bin, type)));
                    foreach (var other in demand.Keys)
                    {
                        PlaceGroup(bins, trial, other, Unplaced(demand, trial, other));
                    }
                    if (Placed(trial) > Placed(planned))
                    {
                        Array.Copy(trial, planned, planned.Length);
                        improved = true;
                    }
                }
            }
            if (!improved)
            {
                return;
            }
        }
    }

    private static int Unplaced(Dictionary<string, int> demand, Dictionary<string, int>[] planned, string type) =>
        demand[type] - planned.Sum(bin => bin.GetValueOrDefault(type));

    private static double Slack(IReadOnlyList<Bin> bins, Dictionary<string, int>[] planned) =>
        Enumerable.Range(0, bins.Count).Sum(bin => bins[bin].Model.Slack(Total(bins[bin], planned[bin])));

    private static Dictionary<string, int> Merge(IReadOnlyList<DeviceRequest> requests)
    {
        var demand = new Dictionary<string, int>();
        foreach (var request in requests)
        {
            Add(demand, request.Type, request.Count);
        }
        return demand;
    }

    private static Dictionary<string, int>[] Empty(IReadOnlyList<Bin> bins) => [.. bins.Select(_ => new Dictionary<string, int>())];

    private static void Add(Dictionary<string, int> counts, string type, int count)
    {
        var total = counts.GetValueOrDefault(type) + count;
        if (total == 0)
        {
            counts.Remove(type);
        }
        else
        {
            counts[type] = total;
        }
    }
}
