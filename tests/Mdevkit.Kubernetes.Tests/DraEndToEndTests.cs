using k8s;
using k8s.Models;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Management;
using Mdevkit.Sysfs;
using V1 = Mdevkit.Kubernetes.Protos.Dra.V1;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// One node end to end, every part real but the cluster: mdevkit-dra as a process over a FUSE-mounted simulator whose
/// parents were probed, registered by the fake kubelet, publishing into the API server double; claims allocated by the
/// allocator from what it published, prepared and unprepared through the kubelet's protocol. The kernel (the
/// simulator's drivers) refuses any device that does not fit, so a prepare that fails is an over-allocation.
/// </summary>
public sealed class DraEndToEndTests
{
    private readonly Allocator _allocator = new([AllocatorClaims.DeviceClass(DraNames.Driver)]);

    /// <summary>mtty's ports are one pool both types take from (a two-port device takes two).</summary>
    [Fact]
    public Task Samples_PortsPool_AllocatedPreparedRepublishedAndUnprepared() => ScenarioAsync("samples", "mtty-2", parents => ("mtty", "mtty-1"));

    /// <summary>An M60 GPU runs one vGPU type at a time; a foreign device on the other GPU leaves it only that type.</summary>
    [Fact]
    public Task Nvidia_ExclusiveTimeSliced_AllocatedPreparedRepublishedAndUnprepared() => ScenarioAsync("nvidia", "nvidia-18", parents => (parents[1], "nvidia-13"));

    /// <summary>GVT-g's types share the aperture, the hidden memory and the fences, each a counter.</summary>
    [Fact]
    public Task Gvt_ApertureHiddenFences_AllocatedPreparedRepublishedAndUnprepared() => ScenarioAsync("gvt", "i915-GVTg_V5_4", parents => (parents[0], "i915-GVTg_V5_8"));

    private async Task ScenarioAsync(string profile, string claimType, Func<IReadOnlyList<string>, (string Parent, string Type)> foreignOn)
    {
        await using var node = await DraFixture.StartAsync(start: false, profile: profile);
        node.ProbeAll();
        await node.StartPluginAsync();
        using var kubelet = await node.Kubelet.RegisterAsync();

        // The claim, allocated from the published pool by its type attribute, put with its allocation, prepared.
        var published = await node.PoolAsync(_ => true);
        var claim = AllocatorClaims.ForAttribute("vm-a", DraNames.Driver, DraNames.TypeAttribute, claimType);
        var allocation = _allocator.Allocate(published, [], claim) ?? throw new Xunit.Sdk.XunitException($"no {claimType} device in the published pool");
        var result = Assert.Single(allocation.Devices.Results);
        Assert.Equal(node.NodeName, result.Pool);
        var prepared = await PrepareAsync(node, kubelet, node.Allocated(claim, allocation));

        var uuid = DeviceUuids.For(claim.Metadata.Uid, "vgpu");
        Assert.True(Directory.Exists(Path.Join(node.Root, "sys/bus/mdev/devices", MdevUuid.Format(uuid))));
        Assert.True(node.Host.Manager.TryGetActive(uuid, out var running));
        var device = published.SelectMany(slice => slice.Spec.Devices ?? []).Single(candidate => candidate.Name == result.Device);
        Assert.Equal((device.Attributes[DraNames.ParentAttribute].StringValue, claimType), (running.Parent, running.Type));
        Assert.Equal([$"{DraNames.Driver}/vfio={MdevUuid.Format(uuid)}", $"{DraNames.Driver}/metadata={claim.Metadata.Uid}_vgpu"], Assert.Single(prepared.Devices).CdiDeviceIds);
        Assert.All([node.Paths.VfioSpec(claim.Metadata.Uid), node.Paths.MetadataSpec(claim.Metadata.Uid), node.Paths.MetadataFile("default", "vm-a", "vgpu")],
            file => Assert.True(File.Exists(file), file));
        Assert.Contains(MdevUuid.Format(uuid), File.ReadAllText(node.Paths.MetadataFile("default", "vm-a", "vgpu")), StringComparison.Ordinal);

        // Its own device stays offered (the scheduler subtracts its claim), so the pool is as it was, and consistent with the claim.
        var afterPrepare = await node.PoolAsync(_ => true);
        Assert.Equal(Devices(published).Select(candidate => KubernetesJson.Serialize(candidate)), Devices(afterPrepare).Select(candidate => KubernetesJson.Serialize(candidate)));
        Assert.Empty(Allocator.Check(afterPrepare, [claim]));

        // A device someone else makes on the host is taken off what is published.
        var (foreignParent, foreignType) = foreignOn(node.Host.Kernel.ParentNames());
        var foreign = Guid.NewGuid();
        node.Host.Manager.Start(new StartRequest(foreign, foreignParent, foreignType));
        var generation = afterPrepare[0].Spec.Pool.Generation;
        var afterForeign = await node.PoolAsync(pool => pool[0].Spec.Pool.Generation > generation);
        Assert.True(Devices(afterForeign).Count < Devices(afterPrepare).Count, "the foreign device took nothing off the offer");
        var (before, after) = (CounterSet(afterPrepare, foreignParent), CounterSet(afterForeign, foreignParent));
        Assert.True(after.All(counter => counter.Value <= before[counter.Key]) && after.Any(counter => counter.Value < before[counter.Key]),
            $"the counters of {foreignParent} went from {string.Join(", ", before)} to {string.Join(", ", after)}");
        Assert.Empty(Allocator.Check(afterForeign, [claim]));

        // Filling the node from what it publishes now: every allocation is one the kernel takes, and nothing it could take is left.
        var claims = new List<Resourcev1ResourceClaim> { claim };
        var types = Devices(afterForeign).Select(candidate => candidate.Attributes[DraNames.TypeAttribute].StringValue).Distinct().ToList();
        for (var index = 0; types.Count > 0; index++)
        {
            var type = types[index % types.Count];
            var next = AllocatorClaims.ForAttribute($"vm-{index}", DraNames.Driver, DraNames.TypeAttribute, type);
            if (_allocator.Allocate(afterForeign, claims, next) is not { } placed)
            {
                types.Remove(type);
                continue;
            }
            await PrepareAsync(node, kubelet, node.Allocated(next, placed));
            claims.Add(next);
            Assert.Empty(Allocator.Check(afterForeign, claims));
        }
        Assert.True(claims.Count > 2, $"only {claims.Count} claims placed");
        foreach (var parent in node.Host.Kernel.ParentNames())
        {
            Assert.All(node.Host.Kernel.Types(parent), type => Assert.True(type.AvailableInstances == 0, $"{parent} still offers {type.AvailableInstances} {type.Id}: the slices stranded it"));
        }
        // The pool published after all of it still allocates nothing more, and holds every claim.
        var full = await node.PoolAsync(_ => true);
        Assert.Empty(Allocator.Check(full, claims));
        Assert.Null(new Allocator([AllocatorClaims.DeviceClass(DraNames.Driver)]).Allocate(full, claims, AllocatorClaims.ForAttribute("vm-more", DraNames.Driver, DraNames.TypeAttribute, claimType)));

        // Unprepared, the claims' devices are gone; the foreign one stays.
        var unprepared = await kubelet.UnprepareAsync([.. claims.Select(SimulatedNode.Ref)]);
        Assert.All(unprepared.Values, answer => Assert.Equal("", answer.Error));
        Assert.Equal([MdevUuid.Format(foreign)], node.Mdevs());
        Assert.False(File.Exists(node.Paths.VfioSpec(claim.Metadata.Uid)));
    }

    private static async Task<V1.NodePrepareResourceResponse> PrepareAsync(SimulatedNode node, FakeKubelet.RegisteredPlugin kubelet, V1.Claim claim)
    {
        var answer = (await kubelet.PrepareAsync(claim))[claim.Uid];
        Assert.True(answer.Error == "", $"preparing {claim.Name}: {answer.Error}\n{node.Plugin!.Log}");
        return answer;
    }


    private static List<V1Device> Devices(IReadOnlyList<V1ResourceSlice> pool) => [.. pool.SelectMany(slice => slice.Spec.Devices ?? []).OrderBy(device => device.Name, StringComparer.Ordinal)];

    // The counters of the set a parent's devices consume.
    private static Dictionary<string, decimal> CounterSet(IReadOnlyList<V1ResourceSlice> pool, string parent)
    {
        var name = pool.SelectMany(slice => slice.Spec.Devices ?? []).First(device => device.Attributes[DraNames.ParentAttribute].StringValue == parent).ConsumesCounters[0].CounterSet;
        return pool.SelectMany(slice => slice.Spec.SharedCounters ?? []).Single(set => set.Name == name).Counters.ToDictionary(counter => counter.Key, counter => counter.Value.Value.ToDecimal());
    }
}
