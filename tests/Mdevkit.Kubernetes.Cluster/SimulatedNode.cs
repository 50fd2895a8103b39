using k8s;
using k8s.Models;
using Mdevkit.Management;
using Mdevkit.SimHost;
using Mdevkit.Simulation.Profiles;
using Mdevkit.TestSupport;
using V1 = Mdevkit.Kubernetes.Protos.Dra.V1;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// One node without a cluster: a simulated host of a profile served through its real FUSE mount, the API server double
/// with the node's Node object, and <c>mdevkit-dra</c> as a real process over
/// them, publishing the node's ResourceSlices, registered by the fake kubelet. Its waits end when the cancellation it
/// was started with is cancelled.
/// </summary>
public sealed class SimulatedNode : IAsyncDisposable
{
    private static readonly TimeSpan s_patience = TimeSpan.FromMinutes(1);
    private readonly TempRoot _scratch;
    private readonly bool _ownsApi;
    private readonly CancellationToken _cancellation;

    private SimulatedNode(TempRoot scratch, SimService simulator, ApiServer api, string nodeName, bool ownsApi, CancellationToken cancellation)
    {
        _scratch = scratch;
        Simulator = simulator;
        Api = api;
        NodeName = nodeName;
        _ownsApi = ownsApi;
        _cancellation = cancellation;
        Kubelet = new FakeKubelet(KubeletDirectory, cancellation);
    }

    public SimService Simulator { get; }

    public ApiServer Api { get; }

    public string NodeName { get; }

    public FakeKubelet Kubelet { get; }

    public PluginProcess? Plugin { get; private set; }

    public string Root => Simulator.Root.Directory;

    public string KubeletDirectory => _scratch.Join("kubelet");

    public string CdiDirectory => _scratch.Join("cdi");

    public PluginPaths Paths => new(KubeletDirectory, CdiDirectory);

    /// <summary>The simulated host as mdevkit manages it, from the test's process: what another tool on the host would do.</summary>
    public ManagedHost Host => field ??= new ManagedHost(new MdevctlEnvironment(Root), TextWriter.Null);

    public IReadOnlyList<string> Arguments =>
        ["--root", Root, "--node-name", NodeName, "--kubelet-dir", KubeletDirectory, "--cdi-dir", CdiDirectory, "--server", Api.Address.ToString()];

    /// <summary>The simulator, a double of its own with the node, and (unless <paramref name="start"/> is false) the plugin, once it published the node's pool.</summary>
    public static async Task<SimulatedNode> StartAloneAsync(string nodeName, string profile, bool start, CancellationToken cancellation)
    {
        var api = await ApiServer.StartAsync(cancellation);
        try
        {
            return await StartAsync(api, nodeName, profile, start, ownsApi: true, cancellation);
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    /// <summary>One node of several on <paramref name="api"/>, which the caller stops.</summary>
    public static Task<SimulatedNode> StartAsync(ApiServer api, string nodeName, string profile, bool start, CancellationToken cancellation) =>
        StartAsync(api, nodeName, profile, start, ownsApi: false, cancellation);

    private static async Task<SimulatedNode> StartAsync(ApiServer api, string nodeName, string profile, bool start, bool ownsApi, CancellationToken cancellation)
    {
        var scratch = new TempRoot(nameof(SimulatedNode));
        SimService? simulator = null;
        try
        {
            simulator = SimService.Start(HostProfile.Load(profile), new SimRoot(scratch.Join("root")), TextWriter.Null, ["false"]);
            var node = new SimulatedNode(scratch, simulator, api, nodeName, ownsApi, cancellation);
            api.PutNode(nodeName);
            if (start)
            {
                await node.StartPluginAsync();
            }
            return node;
        }
        catch
        {
            simulator?.Dispose();
            scratch.Dispose();
            throw;
        }
    }

    /// <summary>Starts the plugin (again, after a kill) and waits until the node's pool is published.</summary>
    public async Task StartPluginAsync()
    {
        if (Plugin is not null)
        {
            await Plugin.DisposeAsync();
            Plugin = null;
        }
        Plugin = await PluginProcess.StartAsync(Arguments, _cancellation);
        await PoolAsync(_ => true);
    }

    /// <summary>The node's slices, once they are a complete pool that satisfies <paramref name="until"/>.</summary>
    public async Task<IReadOnlyList<V1ResourceSlice>> PoolAsync(Func<IReadOnlyList<V1ResourceSlice>, bool> until)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while (true)
        {
            var pool = Api.Slices.Where(slice => slice.Spec.NodeName == NodeName && slice.Spec.Driver == DraNames.Driver).ToList();
            if (pool.Count > 0 && pool.All(slice => slice.Spec.Pool.Generation == pool[0].Spec.Pool.Generation && slice.Spec.Pool.ResourceSliceCount == pool.Count) && until(pool))
            {
                return pool;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the pool of {NodeName} never got there; it is:\n{string.Join("\n", pool.Select(slice => KubernetesJson.Serialize(slice)))}\nplugin log:\n{Plugin?.Log}");
            }
            await Task.Delay(20, _cancellation);
        }
    }

    /// <summary>
    /// Probes every parent, as <c>mdevkit probe</c> does, so the slices publish each one's learned capacity model: each
    /// mdev parent, and each NVIDIA SR-IOV GPU by its physical function rather than its virtual functions one by one.
    /// </summary>
    public void ProbeAll()
    {
        var gpus = Host.Kernel.NvidiaGpus();
        var onGpus = gpus.SelectMany(gpu => gpu.VirtualFunctions).ToHashSet(StringComparer.Ordinal);
        foreach (var parent in Host.Kernel.ParentNames().Where(name => !onGpus.Contains(name)).Concat(gpus.Select(gpu => gpu.Function)))
        {
            Host.Probe.Probe(parent, _cancellation);
        }
    }

    /// <summary>Puts <paramref name="claim"/> into the double with the allocation the scheduler made; the kubelet's name for it.</summary>
    public V1.Claim Allocated(Resourcev1ResourceClaim claim, V1AllocationResult allocation)
    {
        claim.Status = new V1ResourceClaimStatus { Allocation = allocation };
        return Ref(Api.PutClaim(claim));
    }

    /// <summary>A claim as the kubelet names it.</summary>
    public static V1.Claim Ref(Resourcev1ResourceClaim claim) => new() { Namespace = claim.Metadata.NamespaceProperty, Name = claim.Metadata.Name, Uid = claim.Metadata.Uid };

    /// <summary>The node's devices of the pool published now, once it is complete.</summary>
    public async Task<IReadOnlyList<V1Device>> DevicesAsync() => [.. (await PoolAsync(_ => true)).SelectMany(slice => slice.Spec.Devices ?? [])];

    /// <summary>Puts a claim allocated as the scheduler would: each (request, device) of this node's pool.</summary>
    public V1.Claim Claim(string name, params (string Request, string Device)[] results) => Claim(name, DraNames.Driver, NodeName, results);

    /// <summary>Puts a claim allocated by <paramref name="driver"/> in <paramref name="pool"/>.</summary>
    public V1.Claim Claim(string name, string driver, string pool, params (string Request, string Device)[] results)
    {
        var claim = Api.PutClaim(new Resourcev1ResourceClaim
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "vms" },
            Spec = new V1ResourceClaimSpec(),
            Status = new V1ResourceClaimStatus
            {
                Allocation = new V1AllocationResult
                {
                    Devices = new V1DeviceAllocationResult
                    {
                        Results = [.. results.Select(result => new V1DeviceRequestAllocationResult { Request = result.Request, Driver = driver, Pool = pool, Device = result.Device })],
                    },
                },
            },
        });
        return new V1.Claim { Namespace = "vms", Name = name, Uid = claim.Metadata.Uid };
    }

    /// <summary>The running mdevs, as the mounted sysfs shows them.</summary>
    public IReadOnlyList<string> Mdevs() =>
        [.. Directory.GetFileSystemEntries(Path.Join(Root, "sys/bus/mdev/devices")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    public async ValueTask DisposeAsync()
    {
        if (Plugin is not null)
        {
            await Plugin.DisposeAsync();
        }
        if (_ownsApi)
        {
            await Api.DisposeAsync();
        }
        Simulator.Dispose();
        _scratch.Dispose();
    }
}
