using Mdevkit.Management.Planning;

namespace Mdevkit.Bench.PlanQuality;

/// <summary>The yardstick for <see cref="Packing"/>: the best placement, found by trying them all. Also the packing tests' oracle.</summary>
internal static class Exhaustive
{
    /// <summary>The most devices that can be placed, by exhaustive search; for small instances only.</summary>
    public static int Optimum(IReadOnlyList<Bin> bins, IReadOnlyList<DeviceRequest> requests)
    {
        var demand = requests.GroupBy(request => request.Type, StringComparer.Ordinal).Select(group => (Type: group.Key, Count: group.Sum(request => request.Count))).ToList();
        var planned = bins.Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToArray();
        var best = 0;
        Search(0, 0, 0, demand.Sum(type => type.Count));
        return best;

        // Distributes type `t`'s remaining demand over bins from `b` on; `remaining` bounds what can still be gained.
        void Search(int t, int b, int placed, int remaining)
        {
            if (placed + remaining <= best)
            {
                return;
            }
            if (t == demand.Count)
            {
                best = placed;
                return;
            }
            var (type, count) = demand[t];
            var left = count - planned.Sum(bin => bin.GetValueOrDefault(type));
            if (b == bins.Count || left == 0)
            {
                Search(t + 1, 0, placed, remaining - left);
                return;
            }
            for (var take = Math.Min(left, Packing.Room(bins, planned, b, type)); take >= 0; take--)
            {
                planned[b][type] = planned[b].GetValueOrDefault(type) + take;
                Search(t, b + 1, placed + take, remaining - take);
                planned[b][type] -= take;
            }
        }
    }
}
