using k8s;
using k8s.Autorest;
using k8s.Models;
using Mdevkit.Kubernetes.Cluster;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>The API server double, through KubernetesClient as the driver uses it: the rules it keeps and the answers it gives.</summary>
public sealed class ApiServerTests
{
    [Fact]
    public async Task Slices_ListWithFieldSelectors_OnlyTheNodesAndDrivers()
    {
        await using var api = await ApiServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = Client(api);
        await client.ResourceV1.CreateResourceSliceAsync(Slice("a", "node-1", 1), cancellationToken: TestContext.Current.CancellationToken);
        await client.ResourceV1.CreateResourceSliceAsync(Slice("b", "node-2", 1), cancellationToken: TestContext.Current.CancellationToken);

        var listed = await client.ResourceV1.ListResourceSliceAsync(fieldSelector: $"spec.driver={DraNames.Driver},spec.nodeName=node-2", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["b"], listed.Items.Select(slice => slice.Metadata.Name));
    }

    [Fact]
    public async Task Slices_BrokenRules_Refused422WithTheField()
    {
        await using var api = await ApiServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = Client(api);
        var both = Slice("both", "node-1", 1);
        both.Spec.SharedCounters = [new V1CounterSet { Name = "gpu", Counters = new Dictionary<string, V1Counter> { ["memory"] = new() { Value = new ResourceQuantity("1Gi") } } }];

        foreach (var (slice, message) in new[]
        {
            (Slice("too-many", "node-1", 129), "spec.devices: Too many: 129: must have at most 128 items"),
            (both, "spec: Invalid value: only one of devices and sharedCounters may be set"),
            (Slice("Upper", "node-1", 1), "metadata.name: Invalid value: \"Upper\""),
        })
        {
            var refused = await Assert.ThrowsAsync<HttpOperationException>(() => client.ResourceV1.CreateResourceSliceAsync(slice, cancellationToken: TestContext.Current.CancellationToken));
            Assert.Equal(422, (int)refused.Response.StatusCode);
            var status = System.Text.Json.JsonSerializer.Deserialize(refused.Response.Content, StatusSourceGenerationContext.Default.V1Status)!;
            Assert.Equal(("Failure", "Invalid"), (status.Status, status.Reason));
            Assert.Contains(message, status.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Slices_ReplaceWithAStaleResourceVersion_Conflict409()
    {
        await using var api = await ApiServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = Client(api);
        var created = await client.ResourceV1.CreateResourceSliceAsync(Slice("a", "node-1", 1), cancellationToken: TestContext.Current.CancellationToken);
        var stale = created.Metadata.ResourceVersion;
        await client.ResourceV1.ReplaceResourceSliceAsync(created, "a", cancellationToken: TestContext.Current.CancellationToken);

        created.Metadata.ResourceVersion = stale;
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => client.ResourceV1.ReplaceResourceSliceAsync(created, "a", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(409, (int)refused.Response.StatusCode);
    }

    private static k8s.Kubernetes Client(ApiServer api) => new(new KubernetesClientConfiguration { Host = api.Address.ToString() });

    private static V1ResourceSlice Slice(string name, string node, int devices) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ResourceSliceSpec
        {
            Driver = DraNames.Driver,
            NodeName = node,
            Pool = new V1ResourcePool { Name = node, Generation = 1, ResourceSliceCount = 1 },
            Devices = [.. Enumerable.Range(0, devices).Select(index => new V1Device { Name = $"d{index}" })],
        },
    };
}
