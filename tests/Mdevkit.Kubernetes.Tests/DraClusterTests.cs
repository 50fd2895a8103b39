using Mdevkit.Kubernetes.Cluster;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// A small cluster of real parts (<see cref="LiveCluster"/>): three simulated hosts of different profiles, each
/// FUSE-mounted and probed with its own mdevkit-dra process and fake kubelet, all publishing into one API server
/// double; a seeded stream of VM claims of mixed types allocated from what they published, each prepared on the node it
/// was placed on, some unprepared as VMs end. The simulator's drivers refuse what does not fit, so a failed prepare is
/// an over-commit.
/// </summary>
public sealed class DraClusterTests
{
    private static readonly string[] s_profiles = ["nvidia", "gvt", "samples"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ClaimStream_ThreeMixedHosts_PlacedOnTheRightNodeNeverOverCommittedNothingStranded(int seed)
    {
        await using var cluster = await LiveCluster.StartAsync(s_profiles.Select((profile, index) => ($"node-{index}", profile)), TestContext.Current.CancellationToken);
        var random = new Random(seed);
        var types = cluster.Api.Slices.SelectMany(slice => slice.Spec.Devices ?? []).Select(device => device.Attributes[DraNames.TypeAttribute].StringValue).Distinct().Order(StringComparer.Ordinal).ToList();
        var (requested, placed, ended) = (0, 0, 0);
        for (var index = 0; index < 20; index++)
        {
            // A VM ends now and then: its claim is unprepared where it ran and deleted.
            if (cluster.Running.Count > 0 && random.Next(4) == 0)
            {
                Assert.Equal("", await cluster.EndAsync(cluster.Running[random.Next(cluster.Running.Count)]));
                ended++;
            }
            var type = types[random.Next(types.Count)];
            var claim = AllocatorClaims.ForAttribute($"vm-{index}", DraNames.Driver, DraNames.TypeAttribute, type);
            requested++;
            if (await cluster.PlaceAsync(claim) is not { } placement)
            {
                // Refused: then no host can make the type now, or the slices stranded capacity.
                foreach (var node in cluster.Nodes)
                {
                    Assert.All(node.Host.Kernel.ParentNames().SelectMany(node.Host.Kernel.Types).Where(offered => offered.Id == type),
                        offered => Assert.True(offered.AvailableInstances == 0, $"{claim.Metadata.Name} ({type}) was refused though {node.NodeName} could make {offered.AvailableInstances}"));
                }
                continue;
            }
            Assert.True(placement.Error == "", $"preparing {claim.Metadata.Name} ({type}) on {placement.Node.NodeName}: {placement.Error}");
            placed++;
            Assert.Empty(cluster.Check());
            AssertEveryDeviceOnItsHost(cluster);
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {placed} of {requested} claims placed on {string.Join(", ", cluster.Nodes.Select((node, index) => $"{node.NodeName} ({s_profiles[index]})"))}; {ended} ended, {cluster.Running.Count} running");
        Assert.True(placed > requested / 2, $"only {placed} of {requested} placed");
    }

    // Each running claim's device runs on the host of the node it was placed on, as allocated; nothing else of the plugin's runs.
    private static void AssertEveryDeviceOnItsHost(LiveCluster cluster)
    {
        foreach (var node in cluster.Nodes)
        {
            var expected = cluster.Running.Where(running => running.Node == node).Select(running => DeviceUuids.For(running.Claim.Metadata.Uid, "vgpu")).Order().ToList();
            Assert.Equal(expected, node.Host.Kernel.Active().Select(device => device.Uuid).Order());
        }
    }
}
