using k8s;
using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Tests.Slices;

public sealed class SlicePublisherTests
{
    private static NodeCapacity Node(params SliceParent[] parents) => new("node1", parents);

    private static (SlicePublisher Publisher, SliceStoreHandler Store) Publisher()
    {
        var store = new SliceStoreHandler();
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://apiserver.test" }, store);
        return (new SlicePublisher(client, "node1"), store);
    }

    [Fact]
    public async Task PublishAsync_SameCapacityTwice_SecondSendsNothing()
    {
        var (publisher, store) = Publisher();
        using var _ = publisher;
        var node = Node(SliceModels.Parent(SliceModels.M60("0000:3b:00.0")), SliceModels.Parent(SliceModels.Gvt("0000:00:02.0")));

        var first = await publisher.PublishAsync(node, new HashSet<Guid>(), TestContext.Current.CancellationToken);
        var writes = store.Methods.Count(method => method != "GET");
        var second = await publisher.PublishAsync(node, new HashSet<Guid>(), TestContext.Current.CancellationToken);

        Assert.Equal((1L, store.Slices.Count, 0, 0), (first.Generation, first.Created, first.Replaced, first.Deleted));
        Assert.True(second.Unchanged);
        Assert.Equal(1, second.Generation);
        Assert.Equal(writes, store.Methods.Count(method => method != "GET"));
        Assert.Empty(SliceLimits.PoolViolations([.. store.Slices.Values]));
    }

    [Fact]
    public async Task PublishAsync_CapacityChanges_NextGenerationWholeAndStaleSlicesDeleted()
    {
        var (publisher, store) = Publisher();
        using var _ = publisher;
        var gpus = Enumerable.Range(0, 4).Select(index => SliceModels.Parent(SliceModels.M60($"0000:{index + 16:x2}:00.0"))).ToArray();
        await publisher.PublishAsync(Node(gpus), new HashSet<Guid>(), TestContext.Current.CancellationToken);
        var before = store.Slices.Count;

        // A device made by someone else takes three GPUs' offers down to one type each.
        var busy = gpus.Select((gpu, index) => index == 0 ? gpu : gpu with { Devices = [new ActiveDevice(Guid.NewGuid(), gpu.Model.Parent, "nvidia-21")] }).ToArray();
        var result = await publisher.PublishAsync(Node(busy), new HashSet<Guid>(), TestContext.Current.CancellationToken);

        Assert.Equal(2, result.Generation);
        Assert.True(result.Deleted > 0 && store.Slices.Count < before, $"{before} slices before, {store.Slices.Count} after");
        Assert.All(store.Slices.Values, slice => Assert.Equal((2L, (long)store.Slices.Count), (slice.Spec.Pool.Generation, slice.Spec.Pool.ResourceSliceCount)));
        Assert.Empty(SliceLimits.PoolViolations([.. store.Slices.Values]));
        Assert.Equal(31, store.Slices.Values.SelectMany(slice => slice.Spec.Devices ?? []).Count());
    }

    [Fact]
    public async Task PublishAsync_OtherNodesSlices_LeftAlone()
    {
        var (publisher, store) = Publisher();
        using var _ = publisher;
        var other = ResourceSliceBuilder.Build(new NodeCapacity("node2", [SliceModels.Parent(CapacityModel.FromAvailability("mtty", [("mtty-1", 2)]))]), new HashSet<Guid>(), 7).Single();
        store.Slices[other.Metadata.Name] = other;

        // Nothing to publish is no change: the pool stays at generation 0, with no slices.
        Assert.True((await publisher.PublishAsync(Node(), new HashSet<Guid>(), TestContext.Current.CancellationToken)).Unchanged);
        await publisher.PublishAsync(Node(SliceModels.Parent(SliceModels.Gvt("0000:00:02.0"))), new HashSet<Guid>(), TestContext.Current.CancellationToken);

        Assert.Same(other, store.Slices[other.Metadata.Name]);
        Assert.Equal([("node1", 1L), ("node2", 7L)], store.Slices.Values.Select(slice => (slice.Spec.NodeName, slice.Spec.Pool.Generation)).Distinct().Order());
    }
}
