using k8s.Models;
using Mdevkit.Kubernetes.Cluster;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// A small cluster of real parts: three simulated hosts of different profiles, each FUSE-mounted and probed with its
/// own mdevkit-dra process and fake kubelet, all publishing into one API server double; a seeded stream of VM claims
/// of mixed types allocated by the allocator from what they published, each prepared on the node it was placed on,
/// some unprepared as VMs end. The simulator's drivers refuse what does not fit, so a failed prepare is an over-commit.
/// </summary>
public sealed class DraClusterTests
{
    private static readonly string[] s_profiles = ["nvidia", "gvt", "samples"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ClaimStream_ThreeMixedHosts_PlacedOnTheRightNodeNeverOverCommittedNothingStranded(int seed)
    {
        await using var api = await ApiServer.StartAsync(TestContext.Current.CancellationToken);
        var nodes = new List<DraFixture>();
        var kubelets = new List<FakeKubelet.RegisteredPlugin>();
        try
        {
            foreach (var (profile, index) in s_profiles.Select((profile, index) => (profile, index)))
            {
                var node = await DraFixture.StartAsync(api, $"node-{index}", profile, start: false);
                nodes.Add(node);
                node.ProbeAll();
                await node.StartPluginAsync();
                kubelets.Add(await node.Kubelet.RegisterAsync());
            }
            await RunStreamAsync(seed, api, nodes, kubelets);
        }
        finally
        {
            kubelets.ForEach(kubelet => kubelet.Dispose());
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task RunStreamAsync(int seed, ApiServer api, List<DraFixture> nodes, List<FakeKubelet.RegisteredPlugin> kubelets)
    {
        var random = new Random(seed);
        var allocator = new Allocator([AllocatorClaims.DeviceClass(DraNames.Driver)]);
        var types = api.Slices.SelectMany(slice => slice.Spec.Devices ?? []).Select(device => device.Attributes[DraNames.TypeAttribute].StringValue).Distinct().Order(StringComparer.Ordinal).ToList();
        var running = new List<(Resourcev1ResourceClaim Claim, int Node)>();
        var (requested, placed, ended) = (0, 0, 0);
        for (var index = 0; index < 20; index++)
        {
            // A VM ends now and then: its claim is unprepared where it ran and deleted.
            if (running.Count > 0 && random.Next(4) == 0)
            {
                var (done, where) = running[random.Next(running.Count)];
                Assert.Equal("", (await kubelets[where].UnprepareAsync(DraFixture.Ref(done)))[done.Metadata.Uid].Error);
                api.DeleteClaim(done.Metadata.NamespaceProperty, done.Metadata.Name);
                running.RemoveAll(entry => entry.Claim == done);
                ended++;
            }
            var type = types[random.Next(types.Count)];
            var claim = AllocatorClaims.ForAttribute($"vm-{index}", DraNames.Driver, DraNames.TypeAttribute, type);
            requested++;
            var slices = api.Slices;
            if (allocator.Allocate(slices, running.Select(entry => entry.Claim), claim) is not { } allocation)
            {
                // Refused: then no host can make the type now, or the slices stranded capacity.
                foreach (var node in nodes)
                {
                    Assert.All(node.Host.Kernel.ParentNames().SelectMany(node.Host.Kernel.Types).Where(offered => offered.Id == type),
                        offered => Assert.True(offered.AvailableInstances == 0, $"{claim.Metadata.Name} ({type}) was refused though {node.NodeName} could make {offered.AvailableInstances}"));
                }
                continue;
            }
            var at = nodes.FindIndex(node => node.NodeName == Assert.Single(allocation.Devices.Results).Pool);
            var answer = (await kubelets[at].PrepareAsync(nodes[at].Allocated(claim, allocation)))[claim.Metadata.Uid];
            Assert.True(answer.Error == "", $"preparing {claim.Metadata.Name} ({type}) on {nodes[at].NodeName}: {answer.Error}");
            running.Add((claim, at));
            placed++;
            Assert.Empty(Allocator.Check(slices, running.Select(entry => entry.Claim)));
            AssertEveryDeviceOnItsHost(nodes, running);
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {placed} of {requested} claims placed on {string.Join(", ", nodes.Select((node, index) => $"{node.NodeName} ({s_profiles[index]})"))}; {ended} ended, {running.Count} running");
        Assert.True(placed > requested / 2, $"only {placed} of {requested} placed");
    }

    // Each running claim's device runs on the host of the node it was placed on, as allocated; nothing else of the plugin's runs.
    private static void AssertEveryDeviceOnItsHost(List<DraFixture> nodes, List<(Resourcev1ResourceClaim Claim, int Node)> running)
    {
        foreach (var (node, index) in nodes.Select((node, index) => (node, index)))
        {
            var expected = running.Where(entry => entry.Node == index).Select(entry => DeviceUuids.For(entry.Claim.Metadata.Uid, "vgpu")).Order().ToList();
            Assert.Equal(expected, node.Host.Kernel.Active().Select(device => device.Uuid).Order());
        }
    }
}
