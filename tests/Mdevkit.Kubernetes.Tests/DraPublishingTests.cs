using k8s;
using k8s.Models;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Management;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>When mdevkit-dra, as a process over a FUSE-mounted simulator, publishes its node's ResourceSlices into the API server double.</summary>
public sealed class DraPublishingTests
{
    [Fact]
    public async Task Start_PublishesTheNodesPoolOwnedByTheNode()
    {
        await using var node = await DraFixture.StartAsync();

        var pool = await node.PoolAsync(_ => true);

        var uid = await NodeUidAsync(node);
        Assert.All(pool, slice => Assert.Equal((DraNames.Driver, DraFixture.Node, uid), (slice.Spec.Driver, slice.Spec.Pool.Name, Assert.Single(slice.Metadata.OwnerReferences).Uid)));
        // mtty's two types, mdpy's and mbochs's, each offered.
        Assert.Contains(pool.SelectMany(slice => slice.Spec.Devices ?? []), device => device.Name == "mtty-mtty-2-0");
        // The log line follows the last write.
        await Until(() => node.Plugin!.Log.Contains("Published the ResourceSlices of node node-1 at pool generation 1", StringComparison.Ordinal), node.Plugin!);
    }

    [Fact]
    public async Task Registration_AfterTheKubeletWipedTheSlices_PublishesThemAgain()
    {
        await using var node = await DraFixture.StartAsync();
        using (await node.Kubelet.RegisterAsync())
        {
            var published = await node.PoolAsync(_ => true);
            node.Api.DeleteSlices(DraNames.Driver, DraFixture.Node);

            // The kubelet restarted: it registers the plugin again, which publishes the pool again.
            using var again = await node.Kubelet.RegisterAsync();
            var republished = await node.PoolAsync(_ => true);

            Assert.Equal(published.Select(slice => slice.Metadata.Name), republished.Select(slice => slice.Metadata.Name));
            await Until(() => node.Plugin!.Log.Contains("(the kubelet registered the plugin)", StringComparison.Ordinal), node.Plugin!);
        }
    }

    [Fact]
    public async Task ForeignDevice_MadeThenRemoved_OfferShrinksThenComesBack()
    {
        await using var node = await DraFixture.StartAsync();
        var before = Devices(await node.PoolAsync(_ => true));
        var foreign = Guid.NewGuid();

        // mdpy, never probed, is published as its offer: the device takes one of its four instances off every type.
        node.Host.Manager.Start(new StartRequest(foreign, "mdpy", "mdpy-vga"));
        var during = Devices(await node.PoolAsync(pool => Devices(pool).Count < before.Count));
        node.Host.Manager.Stop(foreign);
        var after = Devices(await node.PoolAsync(pool => Devices(pool).Count == before.Count));

        Assert.Equal(before.Where(name => !name.EndsWith("-3", StringComparison.Ordinal) || !name.StartsWith("mdpy-", StringComparison.Ordinal)), during);
        Assert.Equal(before, after);
        await Until(() => node.Plugin!.Log.Contains($"(device-added {foreign:D} on mdpy)", StringComparison.Ordinal), node.Plugin!);
    }

    [Fact]
    public async Task Publish_RefusedAtFirst_TriedAgainUntilItGoesThrough()
    {
        await using var node = await DraFixture.StartAsync(start: false);
        node.Api.DeleteNode(DraFixture.Node);
        await using var plugin = await PluginProcess.StartAsync(node.Arguments, TestContext.Current.CancellationToken);
        await Until(() => plugin.Log.Contains("Cannot publish the ResourceSlices of node node-1 (the plugin started): the API server refused it: 404 nodes \"node-1\" not found; trying again in 1 s", StringComparison.Ordinal), plugin);
        Assert.Empty(node.Api.Slices);

        node.Api.PutNode(DraFixture.Node);

        Assert.NotEmpty(await node.PoolAsync(_ => true));
        await Until(() => plugin.Log.Contains("Published the ResourceSlices of node node-1 at pool generation 1", StringComparison.Ordinal), plugin);
    }

    private static List<string> Devices(IReadOnlyList<V1ResourceSlice> pool) => [.. pool.SelectMany(slice => slice.Spec.Devices ?? []).Select(device => device.Name).Order(StringComparer.Ordinal)];

    private static async Task<string> NodeUidAsync(SimulatedNode node)
    {
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = node.Api.Address.ToString() });
        return (await client.CoreV1.ReadNodeAsync(node.NodeName, cancellationToken: TestContext.Current.CancellationToken)).Metadata.Uid;
    }

    private static async Task Until(Func<bool> condition, PluginProcess plugin)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"the plugin never got there:\n{plugin.Log}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
