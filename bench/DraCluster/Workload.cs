using Mdevkit.Kubernetes.Slices;

namespace Mdevkit.Bench.DraCluster;

/// <summary>
/// One seed's hosts and claim stream, the same in both modes: hosts drawn from the probed profiles, and VM claims of one
/// vGPU each (one in ten two), types drawn by popularity, the k-th most popular (a seeded order) with weight 1/k, as a
/// few sizes carry most of the demand.
/// </summary>
/// <param name="Hosts">Each host's capacity as its profile probes in memory, named <c>node-NN</c>.</param>
/// <param name="Profiles">The profile each host was booted from.</param>
/// <param name="Stream">The claims in the order they arrive: a type and how many devices of it.</param>
internal sealed record Workload(IReadOnlyList<NodeCapacity> Hosts, IReadOnlyList<string> Profiles, IReadOnlyList<(string Type, int Count)> Stream)
{
    /// <summary>The devices the stream asks for.</summary>
    public int Requested => Stream.Sum(claim => claim.Count);

    /// <summary>Draws <paramref name="hostCount"/> hosts among <paramref name="probed"/>'s profiles and <paramref name="claimsPerHost"/> claims a host.</summary>
    public static Workload Draw(int seed, int hostCount, int claimsPerHost, IReadOnlyDictionary<string, IReadOnlyList<SliceParent>> probed, IReadOnlyList<string> profiles)
    {
        var random = new Random(seed);
        var drawn = Enumerable.Range(0, hostCount).Select(_ => profiles[random.Next(profiles.Count)]).ToList();
        var hosts = drawn.Select((profile, index) => new NodeCapacity($"node-{index:00}", probed[profile])).ToList();
        var types = hosts.SelectMany(host => host.Parents.SelectMany(parent => parent.Model.Types.Where(type => type.Max > 0).Select(type => type.Type))).Distinct().Order(StringComparer.Ordinal).ToList();
        var popularity = types.OrderBy(_ => random.Next()).ToList();
        var weights = popularity.Select((_, rank) => 1.0 / (rank + 1)).ToArray();
        string Pick()
        {
            var point = random.NextDouble() * weights.Sum();
            var index = 0;
            for (; index < weights.Length - 1 && point >= weights[index]; index++)
            {
                point -= weights[index];
            }
            return popularity[index];
        }
        var stream = Enumerable.Range(0, claimsPerHost * hostCount).Select(_ => (Type: Pick(), Count: random.Next(10) == 0 ? 2 : 1)).ToList();
        return new Workload(hosts, drawn, stream);
    }
}
