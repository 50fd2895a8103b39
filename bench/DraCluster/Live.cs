using System.Diagnostics;
using k8s.Models;
using Mdevkit.Kubernetes;
using Mdevkit.Kubernetes.Cluster;

namespace Mdevkit.Bench.DraCluster;

/// <summary>
/// A seed's stream run on real parts (<see cref="LiveCluster"/>): each host a FUSE-mounted simulator of its profile,
/// probed, with its own <c>mdevkit-dra</c> process and fake kubelet, all on one API server double; each claim allocated
/// from the slices the plugins published and prepared on its node, so the plugin makes the mdevs on that simulator.
/// </summary>
internal static class Live
{
    /// <summary>What one seed's live run did.</summary>
    /// <param name="Allocated">Devices the allocator gave to claims.</param>
    /// <param name="Placed">Devices prepared whose mdev appeared under their host's mount.</param>
    /// <param name="Failures">Each claim allocated whose prepare failed or made fewer mdevs than allocated, with why.</param>
    /// <param name="Used">The (node, parent, type) of every device of the claims prepared.</param>
    /// <param name="Violations">What the allocator's check finds, from scratch, on the slices published at the end.</param>
    /// <param name="Republished">Pools whose generation moved past the first while the stream ran.</param>
    /// <param name="Start">How long the nodes took to mount, probe, start their plugins and publish.</param>
    /// <param name="Run">How long the stream took, each claim allocated and prepared in turn.</param>
    public sealed record Result(int Allocated, int Placed, IReadOnlyList<string> Failures, IReadOnlyList<(string Node, string Parent, string Type)> Used,
        IReadOnlyList<string> Violations, int Republished, TimeSpan Start, TimeSpan Run);

    public static async Task<Result> RunAsync(Workload workload, CancellationToken cancellation)
    {
        var time = Stopwatch.StartNew();
        await using var cluster = await LiveCluster.StartAsync(workload.Hosts.Select((host, index) => (host.NodeName, workload.Profiles[index])), cancellation);
        var start = time.Elapsed;
        var (allocated, placed) = (0, 0);
        var failures = new List<string>();
        foreach (var ((type, count), index) in workload.Stream.Select((claim, index) => (claim, index)))
        {
            var claim = AllocatorClaims.ForAttribute($"vm-{index}", DraNames.Driver, DraNames.TypeAttribute, type, count);
            if (await cluster.PlaceAsync(claim) is not { } placement)
            {
                continue;
            }
            allocated += placement.Results.Count;
            if (placement.Error.Length > 0 || placement.Made != placement.Results.Count)
            {
                failures.Add($"{claim.Metadata.Name} ({count} x {type}) on {placement.Node.NodeName}: {(placement.Error.Length > 0 ? placement.Error : $"{placement.Made} mdevs made")}");
            }
            placed += placement.Made;
        }
        var slices = cluster.Api.Slices;
        return new Result(allocated, placed, failures, Placements.Used(slices, cluster.Running.SelectMany(running => running.Results)), cluster.Check(),
            slices.Where(slice => slice.Spec.Pool.Generation > 1).Select(slice => slice.Spec.Pool.Name).Distinct().Count(), start, time.Elapsed - start);
    }
}

/// <summary>Where allocated devices are, as their slices publish them.</summary>
internal static class Placements
{
    /// <summary>The (node, parent, type) of each allocated device, from its published attributes.</summary>
    public static List<(string Node, string Parent, string Type)> Used(IReadOnlyList<V1ResourceSlice> slices, IEnumerable<V1DeviceRequestAllocationResult> results)
    {
        var devices = slices.SelectMany(slice => (slice.Spec.Devices ?? []).Select(device => (slice.Spec.Pool.Name, device))).ToDictionary(entry => (entry.Name, entry.device.Name), entry => entry.device);
        return [.. results.Select(result => (result.Pool, devices[(result.Pool, result.Device)]))
            .Select(entry => (entry.Pool, entry.Item2.Attributes[DraNames.ParentAttribute].StringValue, entry.Item2.Attributes[DraNames.TypeAttribute].StringValue))];
    }
}
