using k8s.Models;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// A cluster of real parts: simulated hosts, each FUSE-mounted and probed with its own <c>mdevkit-dra</c> process and
/// fake kubelet, all publishing into one API server double. A claim is allocated by <see cref="Allocator"/> from the
/// slices the plugins published, beside the claims running, as the scheduler would, and prepared by the kubelet of the
/// node it was placed on, so the plugin makes its devices on that node's simulator.
/// </summary>
public sealed class LiveCluster : IAsyncDisposable
{
    private readonly Allocator _allocator = new([AllocatorClaims.DeviceClass(DraNames.Driver)]);
    private readonly List<SimulatedNode> _nodes = [];
    private readonly List<FakeKubelet.RegisteredPlugin> _kubelets = [];
    private readonly List<Placement> _running = [];

    private LiveCluster(ApiServer api)
    {
        Api = api;
    }

    public ApiServer Api { get; }

    public IReadOnlyList<SimulatedNode> Nodes => _nodes;

    /// <summary>The claims prepared and not ended, in the order they were placed.</summary>
    public IReadOnlyList<Placement> Running => _running;

    /// <summary>Starts the API server double and a node of each (name, profile), one after the other, each registered with its pool published.</summary>
    public static async Task<LiveCluster> StartAsync(IEnumerable<(string NodeName, string Profile)> nodes, CancellationToken cancellation)
    {
        var cluster = new LiveCluster(await ApiServer.StartAsync(cancellation));
        try
        {
            foreach (var (nodeName, profile) in nodes)
            {
                var node = await SimulatedNode.StartAsync(cluster.Api, nodeName, profile, start: false, cancellation);
                cluster._nodes.Add(node);
                node.ProbeAll();
                await node.StartPluginAsync();
                cluster._kubelets.Add(await node.Kubelet.RegisterAsync());
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Allocates <paramref name="claim"/> from every node's complete pool as published now, beside the running claims,
    /// and prepares it on the node its devices came from; null when the allocator refuses it. A prepared claim runs;
    /// one whose prepare failed is returned with the plugin's error and does not run.
    /// </summary>
    public async Task<Placement?> PlaceAsync(Resourcev1ResourceClaim claim)
    {
        foreach (var node in _nodes)
        {
            await node.PoolAsync(_ => true);
        }
        var slices = Api.Slices;
        if (_allocator.Allocate(slices, _running.Select(running => running.Claim), claim) is not { } allocation)
        {
            return null;
        }
        // The allocator takes a claim's devices from one node, whose pool is named after it.
        var at = _nodes.FindIndex(node => node.NodeName == allocation.Devices.Results[0].Pool);
        var before = _nodes[at].Mdevs().Count;
        var answer = (await _kubelets[at].PrepareAsync(_nodes[at].Allocated(claim, allocation)))[claim.Metadata.Uid];
        var placement = new Placement(claim, _nodes[at], answer.Error, _nodes[at].Mdevs().Count - before);
        if (answer.Error.Length == 0)
        {
            _running.Add(placement);
        }
        return placement;
    }

    /// <summary>Ends a running claim as its VM's end does: unprepared on its node, deleted from the API server; the plugin's error, if any.</summary>
    public async Task<string> EndAsync(Placement placement)
    {
        var reference = SimulatedNode.Ref(placement.Claim);
        var answer = (await _kubelets[_nodes.IndexOf(placement.Node)].UnprepareAsync(reference))[reference.Uid];
        Api.DeleteClaim(reference.Namespace, reference.Name);
        _running.Remove(placement);
        return answer.Error;
    }

    /// <summary>What <see cref="Allocator.Check"/> finds wrong, from scratch, with the running claims on the slices published now.</summary>
    public IReadOnlyList<string> Check() => Allocator.Check(Api.Slices, _running.Select(running => running.Claim));

    public async ValueTask DisposeAsync()
    {
        _kubelets.ForEach(kubelet => kubelet.Dispose());
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        await Api.DisposeAsync();
    }
}

/// <summary>A claim allocated and prepared on <paramref name="Node"/>: the plugin's error (empty when prepared) and how many mdevs appeared under the node's mount.</summary>
public sealed record Placement(Resourcev1ResourceClaim Claim, SimulatedNode Node, string Error, int Made)
{
    /// <summary>The devices the allocator gave the claim.</summary>
    public IList<V1DeviceRequestAllocationResult> Results => Claim.Status.Allocation.Devices.Results;
}
