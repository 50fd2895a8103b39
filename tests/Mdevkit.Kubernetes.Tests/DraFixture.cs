using k8s.Models;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.SimHost;
using Mdevkit.Simulation.Profiles;
using Mdevkit.TestSupport;
using V1 = Mdevkit.Kubernetes.Protos.Dra.V1;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// One node without a cluster: a simulated host served through its real FUSE mount (the kernel's sample drivers), the
/// API server double with a hand-written ResourceSlice of the node's mtty devices, and <c>mdevkit-dra</c> as a real
/// process over them, registered by the fake kubelet.
/// </summary>
internal sealed class DraFixture : IAsyncDisposable
{
    public const string Node = "node-1";

    private readonly TempRoot _scratch;

    private DraFixture(TempRoot scratch, SimService simulator, ApiServer api)
    {
        _scratch = scratch;
        Simulator = simulator;
        Api = api;
        Kubelet = new FakeKubelet(KubeletDirectory);
    }

    public SimService Simulator { get; }

    public ApiServer Api { get; }

    public FakeKubelet Kubelet { get; }

    public PluginProcess? Plugin { get; private set; }

    public string Root => Simulator.Root.Directory;

    public string KubeletDirectory => _scratch.Join("kubelet");

    public string CdiDirectory => _scratch.Join("cdi");

    public PluginPaths Paths => new(KubeletDirectory, CdiDirectory);

    public IReadOnlyList<string> Arguments =>
        ["--root", Root, "--node-name", Node, "--kubelet-dir", KubeletDirectory, "--cdi-dir", CdiDirectory, "--server", Api.Address.ToString()];

    /// <summary>The simulator, the double with the node's slice, and (unless <paramref name="start"/> is false) the plugin.</summary>
    /// <param name="start">Whether to start the plugin.</param>
    /// <param name="profile">The simulated host's profile; the hand-written slice names the samples' parents whatever it is.</param>
    public static async Task<DraFixture> StartAsync(bool start = true, string profile = "samples")
    {
        var scratch = new TempRoot(nameof(DraFixture));
        SimService? simulator = null;
        try
        {
            simulator = SimService.Start(HostProfile.Load(profile), new SimRoot(scratch.Join("root")), TextWriter.Null, ["false"]);
            var fixture = new DraFixture(scratch, simulator, await ApiServer.StartAsync(TestContext.Current.CancellationToken));
            fixture.Api.PutSlice(Slice());
            if (start)
            {
                await fixture.StartPluginAsync();
            }
            return fixture;
        }
        catch
        {
            simulator?.Dispose();
            scratch.Dispose();
            throw;
        }
    }

    /// <summary>Starts the plugin (again, after a kill).</summary>
    public async Task StartPluginAsync()
    {
        if (Plugin is not null)
        {
            await Plugin.DisposeAsync();
            Plugin = null;
        }
        Plugin = await PluginProcess.StartAsync(Arguments);
    }

    /// <summary>Puts a claim allocated as the scheduler would: each (request, device) of this node's pool.</summary>
    public V1.Claim Claim(string name, params (string Request, string Device)[] results) => Claim(name, DraNames.Driver, Node, results);

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
        await Api.DisposeAsync();
        Simulator.Dispose();
        _scratch.Dispose();
    }

    // What the slice publisher publishes for the node's mtty, by hand: two single-port devices and a dual-port one.
    private static V1ResourceSlice Slice() => new()
    {
        Metadata = new V1ObjectMeta { Name = $"{Node}-mtty" },
        Spec = new V1ResourceSliceSpec
        {
            Driver = DraNames.Driver,
            NodeName = Node,
            Pool = new V1ResourcePool { Name = Node, Generation = 1, ResourceSliceCount = 1 },
            Devices =
            [
                Device("mtty-1-0", "mtty-1"),
                Device("mtty-1-1", "mtty-1"),
                Device("mtty-2-0", "mtty-2"),
                Device("mdpy-0", "mdpy-vga", "mdpy"),
            ],
        },
    };

    private static V1Device Device(string name, string type, string parent = "mtty") => new()
    {
        Name = name,
        Attributes = new Dictionary<string, V1DeviceAttribute>
        {
            [DraNames.ParentAttribute] = new() { StringValue = parent },
            [DraNames.TypeAttribute] = new() { StringValue = type },
        },
    };
}
