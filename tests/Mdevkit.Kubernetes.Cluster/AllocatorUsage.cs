using k8s.Models;

namespace Mdevkit.Kubernetes.Cluster;

public sealed partial class Allocator
{
    // What the allocated devices take of one node's counter sets, and the compatibility groups each set holds.
    private sealed class Usage
    {
        private readonly Dictionary<(string Pool, string Set), Dictionary<string, decimal>> _left = [];
        private readonly Dictionary<(string Pool, string Set), List<List<string>>> _groups = [];

        public static Usage Of(IEnumerable<Pool> pools, IReadOnlyList<V1DeviceRequestAllocationResult> allocated)
        {
            var usage = new Usage();
            foreach (var pool in pools)
            {
                foreach (var (set, counters) in pool.Sets)
                {
                    usage._left[(pool.Name, set)] = new Dictionary<string, decimal>(counters);
                    usage._groups[(pool.Name, set)] = [];
                }
                foreach (var result in allocated.Where(result => result.Pool == pool.Name && result.Driver == pool.Driver))
                {
                    // An allocated device is taken even where it no longer fits: the counters then stay short, never negative room.
                    if (pool.ByName.GetValueOrDefault(result.Device) is { } device)
                    {
                        usage.Apply(pool, device, -1);
                    }
                }
            }
            return usage;
        }

        // Devices consuming from one set go together when none has groups, or when all have and some group is common to all.
        public static bool Compatible(List<List<string>> groups) =>
            groups.All(group => group.Count == 0)
            || (groups.All(group => group.Count > 0) && groups.Skip(1).Aggregate((IEnumerable<string>)groups[0], (common, group) => common.Intersect(group)).Any());

        public bool TryTake(Pool pool, V1Device device)
        {
            foreach (var consumption in device.ConsumesCounters ?? [])
            {
                if (!_left.TryGetValue((pool.Name, consumption.CounterSet), out var left)
                    || consumption.Counters.Any(counter => !left.TryGetValue(counter.Key, out var room) || room < counter.Value.Value.ToDecimal())
                    || !Compatible([.. _groups[(pool.Name, consumption.CounterSet)], Groups(consumption)]))
                {
                    return false;
                }
            }
            Apply(pool, device, -1);
            return true;
        }

        public void Give(Pool pool, V1Device device) => Apply(pool, device, +1);

        private void Apply(Pool pool, V1Device device, int sign)
        {
            foreach (var consumption in device.ConsumesCounters ?? [])
            {
                if (!_left.TryGetValue((pool.Name, consumption.CounterSet), out var left))
                {
                    continue;
                }
                foreach (var counter in consumption.Counters.Where(counter => left.ContainsKey(counter.Key)))
                {
                    left[counter.Key] += sign * counter.Value.Value.ToDecimal();
                }
                var groups = _groups[(pool.Name, consumption.CounterSet)];
                if (sign < 0)
                {
                    groups.Add(Groups(consumption));
                }
                else
                {
                    groups.RemoveAt(groups.FindLastIndex(group => group.SequenceEqual(Groups(consumption))));
                }
            }
        }

        private static List<string> Groups(V1DeviceCounterConsumption consumption) => consumption.CompatibilityGroups?.ToList() ?? [];
    }
}
