using k8s;
using k8s.Autorest;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Tests.Slices;

/// <summary>The publisher against the API server double, through the client's own HTTP and JSON.</summary>
public sealed class SlicePublisherTests
{
    private static NodeCapacity Node(params SliceParent[] parents) => new("node1", parents);

    private static async Task<(SlicePublisher Publisher, ApiServer Api)> PublisherAsync(bool withNode = true)
    {
        var api = await ApiServer.StartAsync(TestContext.Current.CancellationToken);
        if (withNode)
        {
            api.PutNode("node1");
        }
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        return (new SlicePublisher(client, "node1"), api);
    }

    // Every slice's resourceVersion: the double gives a new one to every write.
    private static List<(string, string)> Versions(ApiServer api) => [.. api.Slices.Select(slice => (slice.Metadata.Name, slice.Metadata.ResourceVersion))];

    [Fact]
    public async Task PublishAsync_SameCapacityTwice_SecondSendsNothing()
    {
        var (publisher, api) = await PublisherAsync();
        await using var _ = api;
        using var __ = publisher;
        var node = Node(SliceModels.Parent(SliceModels.M60("0000:3b:00.0")), SliceModels.Parent(SliceModels.Gvt("0000:00:02.0")));

        var first = await publisher.PublishAsync(node, new HashSet<Guid>(), TestContext.Current.CancellationToken);
        var written = Versions(api);
        var second = await publisher.PublishAsync(node, new HashSet<Guid>(), TestContext.Current.CancellationToken);

        Assert.Equal((1L, api.Slices.Count, 0, 0), (first.Generation, first.Created, first.Replaced, first.Deleted));
        Assert.True(second.Unchanged);
        Assert.Equal(1, second.Generation);
        Assert.Equal(written, Versions(api));
        Assert.Empty(SliceLimits.PoolViolations([.. api.Slices]));
    }

    [Fact]
    public async Task PublishAsync_CapacityChanges_NextGenerationWholeAndStaleSlicesDeleted()
    {
        var (publisher, api) = await PublisherAsync();
        await using var _ = api;
        using var __ = publisher;
        var gpus = Enumerable.Range(0, 4).Select(index => SliceModels.Parent(SliceModels.M60($"0000:{index + 16:x2}:00.0"))).ToArray();
        await publisher.PublishAsync(Node(gpus), new HashSet<Guid>(), TestContext.Current.CancellationToken);
        var before = api.Slices.Count;

        // A device made by someone else takes three GPUs' offers down to one type each.
        var busy = gpus.Select((gpu, index) => index == 0 ? gpu : gpu with { Devices = [new ActiveDevice(Guid.NewGuid(), gpu.Model.Parent, "nvidia-21")] }).ToArray();
        var result = await publisher.PublishAsync(Node(busy), new HashSet<Guid>(), TestContext.Current.CancellationToken);

        var slices = api.Slices;
        Assert.Equal(2, result.Generation);
        Assert.True(result.Deleted > 0 && slices.Count < before, $"{before} slices before, {slices.Count} after");
        Assert.All(slices, slice => Assert.Equal((2L, (long)slices.Count), (slice.Spec.Pool.Generation, slice.Spec.Pool.ResourceSliceCount)));
        Assert.Empty(SliceLimits.PoolViolations([.. slices]));
        Assert.Equal(31, slices.SelectMany(slice => slice.Spec.Devices ?? []).Count());
    }

    [Fact]
    public async Task PublishAsync_OtherNodesSlices_LeftAlone()
    {
        var (publisher, api) = await PublisherAsync();
        await using var _ = api;
        using var __ = publisher;
        var other = api.PutSlice(ResourceSliceBuilder.Build(new NodeCapacity("node2", [SliceModels.Parent(CapacityModel.FromAvailability("mtty", [("mtty-1", 2)]))]), new HashSet<Guid>(), 7).Single());
        var version = other.Metadata.ResourceVersion;

        // Nothing to publish is no change: the pool stays at generation 0, with no slices.
        Assert.True((await publisher.PublishAsync(Node(), new HashSet<Guid>(), TestContext.Current.CancellationToken)).Unchanged);
        await publisher.PublishAsync(Node(SliceModels.Parent(SliceModels.Gvt("0000:00:02.0"))), new HashSet<Guid>(), TestContext.Current.CancellationToken);

        Assert.Equal(version, api.Slices.Single(slice => slice.Metadata.Name == other.Metadata.Name).Metadata.ResourceVersion);
        Assert.Equal([("node1", 1L), ("node2", 7L)], api.Slices.Select(slice => (slice.Spec.NodeName, slice.Spec.Pool.Generation)).Distinct().Order());
    }

    [Fact]
    public async Task PublishAsync_NodeMadeAgain_SlicesOwnedByTheNewNode()
    {
        var (publisher, api) = await PublisherAsync();
        await using var _ = api;
        using var __ = publisher;
        var node = Node(SliceModels.Parent(SliceModels.Gvt("0000:00:02.0")));
        var first = await publisher.PublishAsync(node, new HashSet<Guid>(), TestContext.Current.CancellationToken);
        var owner = Assert.Single(api.Slices.SelectMany(slice => slice.Metadata.OwnerReferences).DistinctBy(reference => reference.Uid));

        // The same capacity under a Node object made again (a new UID): the old owner would take the slices with it.
        var again = api.PutNode("node1");
        var second = await publisher.PublishAsync(node, new HashSet<Guid>(), TestContext.Current.CancellationToken);

        Assert.Equal(("v1", "Node", "node1", true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Controller));
        Assert.Equal((1L, 2L), (first.Generation, second.Generation));
        Assert.All(api.Slices, slice => Assert.Equal(again.Metadata.Uid, Assert.Single(slice.Metadata.OwnerReferences).Uid));
    }

    [Fact]
    public async Task PublishAsync_NoNodeObject_RefusedWithNothingWritten()
    {
        var (publisher, api) = await PublisherAsync(withNode: false);
        await using var _ = api;
        using var __ = publisher;

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() =>
            publisher.PublishAsync(Node(SliceModels.Parent(SliceModels.Gvt("0000:00:02.0"))), new HashSet<Guid>(), TestContext.Current.CancellationToken));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.Response.StatusCode);
        Assert.Empty(api.Slices);
    }
}
