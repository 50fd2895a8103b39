using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>What one publish did.</summary>
/// <param name="Generation">The pool generation the node's slices carry now.</param>
/// <param name="Created">Slices created.</param>
/// <param name="Replaced">Slices replaced.</param>
/// <param name="Deleted">Slices deleted.</param>
public sealed record PublishResult(long Generation, int Created, int Replaced, int Deleted)
{
    /// <summary>Whether the API server already had these slices, so nothing was sent.</summary>
    public bool Unchanged => Created + Replaced + Deleted == 0;
}

/// <summary>
/// Brings the API server's ResourceSlices of one node and driver to what <see cref="ResourceSliceBuilder"/> makes of the
/// node now: it lists them (field selector <c>spec.driver=…,spec.nodeName=…</c>), and when any differs, publishes every
/// slice at the next pool generation (created, or replaced by name), then deletes the slices that are no longer part of
/// the pool. The kubelet deletes a driver's slices when the driver goes away, so the plugin publishes on every
/// (re)registration, and again whenever the host's capacity changes. Publishes run one at a time. Every slice is owned
/// by the Node object, so the garbage collector removes the slices of a node deleted from the cluster.
/// </summary>
/// <param name="client">The API server's client.</param>
/// <param name="nodeName">The node, and the pool's name.</param>
public sealed class SlicePublisher(IKubernetes client, string nodeName) : IDisposable
{
    private readonly SemaphoreSlim _publishing = new(1, 1);

    /// <summary>The node's field selector, as the kubelet's own slice cleanup uses it.</summary>
    public string FieldSelector => $"spec.driver={DraNames.Driver},spec.nodeName={nodeName}";

    /// <summary>Publishes <paramref name="node"/>'s capacity, counting <paramref name="ownDevices"/> as the driver's.</summary>
    /// <param name="node">The node's parents, as <see cref="NodeCapacityReader.Read"/> gives them; its name must be the publisher's.</param>
    /// <param name="ownDevices">The UUIDs of the devices the driver made for prepared claims.</param>
    /// <param name="cancellationToken">Stops waiting for the API server.</param>
    /// <exception cref="k8s.Autorest.HttpOperationException">The API server refused a request (the node is not there: 404).</exception>
    /// <exception cref="HttpRequestException">The API server cannot be reached.</exception>
    public async Task<PublishResult> PublishAsync(NodeCapacity node, IReadOnlySet<Guid> ownDevices, CancellationToken cancellationToken)
    {
        if (node.NodeName != nodeName)
        {
            throw new ArgumentException($"The publisher of node {nodeName} was given node {node.NodeName}", nameof(node));
        }
        await _publishing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var owner = await client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
            var existing = (await client.ResourceV1.ListResourceSliceAsync(fieldSelector: FieldSelector, cancellationToken: cancellationToken).ConfigureAwait(false)).Items;
            var generation = existing.Select(slice => slice.Spec.Pool.Generation).DefaultIfEmpty(0).Max();
            if (Same(existing, ResourceSliceBuilder.Build(node, ownDevices, generation), owner.Metadata.Uid))
            {
                return new PublishResult(generation, 0, 0, 0);
            }
            var wanted = ResourceSliceBuilder.Build(node, ownDevices, generation + 1);
            foreach (var slice in wanted)
            {
                slice.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = owner.Metadata.Uid, Controller = true }];
            }
            if (SliceLimits.PoolViolations(wanted) is { Count: > 0 } violations)
            {
                throw new InvalidOperationException($"The slices built for node {nodeName} break the API's rules: {string.Join("; ", violations)}");
            }
            var byName = existing.ToDictionary(slice => slice.Metadata.Name);
            int created = 0, replaced = 0;
            foreach (var slice in wanted)
            {
                if (byName.TryGetValue(slice.Metadata.Name, out var current))
                {
                    slice.Metadata.ResourceVersion = current.Metadata.ResourceVersion;
                    await client.ResourceV1.ReplaceResourceSliceAsync(slice, slice.Metadata.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
                    replaced++;
                }
                else
                {
                    await client.ResourceV1.CreateResourceSliceAsync(slice, cancellationToken: cancellationToken).ConfigureAwait(false);
                    created++;
                }
            }
            // The new generation is complete before the old slices go, so the scheduler always sees one whole pool.
            var stale = existing.Where(slice => wanted.All(candidate => candidate.Metadata.Name != slice.Metadata.Name)).ToList();
            foreach (var slice in stale)
            {
                await client.ResourceV1.DeleteResourceSliceAsync(slice.Metadata.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            return new PublishResult(generation + 1, created, replaced, stale.Count);
        }
        finally
        {
            _publishing.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _publishing.Dispose();

    // The same slices: same names, owned by this Node object, and specs equal as JSON, whatever order the API server lists map keys in.
    private static bool Same(IList<V1ResourceSlice> existing, IReadOnlyList<V1ResourceSlice> wanted, string ownerUid) =>
        existing.Count == wanted.Count
        && wanted.All(slice => existing.FirstOrDefault(candidate => candidate.Metadata.Name == slice.Metadata.Name) is { } current
            && current.Metadata.OwnerReferences is [{ Kind: "Node" } reference] && reference.Uid == ownerUid
            && JsonNode.DeepEquals(JsonNode.Parse(KubernetesJson.Serialize(current.Spec)), JsonNode.Parse(KubernetesJson.Serialize(slice.Spec))));
}
