using Mdevkit.Kubernetes.Slices;

namespace Mdevkit.Bench.DraCluster;

/// <summary>
/// The device-plugin way: each parent (GPU, GVT-g, SR-IOV GPU) has one type pre-created as many times as it holds, as
/// KubeVirt's <c>mediatedDevicesTypes</c> configures it; a claim takes free pre-created devices of its type on one node.
/// </summary>
internal static class FixedTypes
{
    /// <summary>Places <paramref name="stream"/> on devices of the types <paramref name="choose"/> picks among each parent's.</summary>
    /// <returns>The devices placed, and the share of capacity left unused (pre-created devices no claim took count as unused).</returns>
    public static (int Placed, double Unused) Place(IReadOnlyList<NodeCapacity> hosts, IReadOnlyList<(string Type, int Count)> stream, Func<IReadOnlyList<string>, string> choose)
    {
        var free = hosts.Select(host => host.Parents.Select(parent =>
        {
            var type = choose([.. parent.Model.Types.Where(type => type.Max > 0).Select(type => type.Type)]);
            return (Parent: parent.Model.Parent, Type: type, Free: parent.Model.Available(type, new Dictionary<string, int>()));
        }).ToArray()).ToArray();
        var used = new List<(string Node, string Parent, string Type)>();
        var placed = 0;
        foreach (var (type, count) in stream)
        {
            var node = Array.FindIndex(free, parents => parents.Where(parent => parent.Type == type).Sum(parent => parent.Free) >= count);
            if (node < 0)
            {
                continue;
            }
            for (var taken = 0; taken < count; taken++)
            {
                var parent = Array.FindIndex(free[node], parent => parent.Type == type && parent.Free > 0);
                free[node][parent].Free--;
                used.Add((hosts[node].NodeName, free[node][parent].Parent, type));
            }
            placed += count;
        }
        return (placed, Unused(hosts, used));
    }

    /// <summary>The share of the hosts' parents' capacity that <paramref name="used"/> devices leave unused, parents averaged.</summary>
    public static double Unused(IReadOnlyList<NodeCapacity> hosts, IEnumerable<(string Node, string Parent, string Type)> used)
    {
        var counts = used.GroupBy(device => (device.Node, device.Parent)).ToDictionary(group => group.Key, group => group.CountBy(device => device.Type).ToDictionary());
        return hosts.SelectMany(host => host.Parents.Select(parent => parent.Model.Slack(counts.GetValueOrDefault((host.NodeName, parent.Model.Parent)) ?? []))).Average();
    }
}
