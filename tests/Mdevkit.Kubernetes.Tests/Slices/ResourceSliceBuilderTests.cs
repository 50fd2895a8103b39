using k8s.Models;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Tests.Slices;

public sealed class ResourceSliceBuilderTests
{
    private static readonly HashSet<Guid> s_none = [];

    private static List<V1Device> Devices(IReadOnlyList<V1ResourceSlice> slices) => [.. slices.SelectMany(slice => slice.Spec.Devices ?? [])];

    private static V1CounterSet Set(IReadOnlyList<V1ResourceSlice> slices, string name) => slices.SelectMany(slice => slice.Spec.SharedCounters ?? []).Single(set => set.Name == name);

    [Fact]
    public void Build_ExclusiveGpu_SharesTheLcmAndGroupsByType()
    {
        var slices = ResourceSliceBuilder.Build(new NodeCapacity("node1", [SliceModels.Parent(SliceModels.M60("0000:3b:00.0"))]), s_none, 3);

        Assert.Empty(SliceLimits.PoolViolations(slices));
        Assert.Equal("16", Set(slices, "0000-3b-00-0").Counters["share"].Value.ToString());
        var devices = Devices(slices);
        Assert.Equal(16 + 8 + 4 + 2 + 1, devices.Count);
        var device = devices.Single(device => device.Name == "0000-3b-00-0-nvidia-16-3");
        Assert.Equal("0000:3b:00.0", device.Attributes["parent"].StringValue);
        Assert.Equal("nvidia-16", device.Attributes["type"].StringValue);
        Assert.Equal("nvidia", device.Attributes["vendor"].StringValue);
        var consumption = Assert.Single(device.ConsumesCounters);
        Assert.Equal("4", consumption.Counters["share"].Value.ToString());
        Assert.Equal(["nvidia-16"], consumption.CompatibilityGroups);
        Assert.All(slices, slice => Assert.Equal((3L, (long)slices.Count, "node1", "node1"),
            (slice.Spec.Pool.Generation, slice.Spec.Pool.ResourceSliceCount, slice.Spec.Pool.Name, slice.Spec.NodeName)));
    }

    [Fact]
    public void Allocate_ExclusiveGpu_OneTypeAtATimeUpToItsMaximum()
    {
        var slices = ResourceSliceBuilder.Build(new NodeCapacity("node1", [SliceModels.Parent(SliceModels.M60("0000:3b:00.0"))]), s_none, 1);
        var allocator = new Allocator([AllocatorClaims.DeviceClass(DraNames.Driver)]);
        var claims = new List<Resourcev1ResourceClaim>();
        bool Claim(string type)
        {
            var claim = AllocatorClaims.ForAttribute($"c{claims.Count}", DraNames.Driver, DraNames.TypeAttribute, type);
            if (allocator.Allocate(slices, claims, claim) is not { } allocation)
            {
                return false;
            }
            claims.Add(claim with { Status = new V1ResourceClaimStatus { Allocation = allocation } });
            return true;
        }

        Assert.True(Claim("nvidia-16"));
        Assert.False(Claim("nvidia-11"));
        Assert.True(Claim("nvidia-16") && Claim("nvidia-16") && Claim("nvidia-16"));
        Assert.False(Claim("nvidia-16"));
        Assert.Empty(Allocator.Check(slices, claims));
        var pinned = claims[0].Status.Allocation.NodeSelector.NodeSelectorTerms.Single().MatchFields.Single();
        Assert.Equal(("metadata.name", "node1"), (pinned.Key, pinned.Values.Single()));
    }

    [Fact]
    public void Build_ForeignDevice_TakesItsShareOff_OwnDeviceDoesNot()
    {
        var device = new ActiveDevice(Guid.NewGuid(), "0000:3b:00.0", "nvidia-16");
        var node = new NodeCapacity("node1", [SliceModels.Parent(SliceModels.M60("0000:3b:00.0"), device)]);

        var foreign = ResourceSliceBuilder.Build(node, s_none, 1);
        var own = ResourceSliceBuilder.Build(node, new HashSet<Guid> { device.Uuid }, 1);

        Assert.Equal("12", Set(foreign, "0000-3b-00-0").Counters["share"].Value.ToString());
        Assert.Equal(["nvidia-16"], Devices(foreign).Select(device => device.Attributes["type"].StringValue).Distinct());
        Assert.Equal(3, Devices(foreign).Count);
        Assert.Equal("16", Set(own, "0000-3b-00-0").Counters["share"].Value.ToString());
        Assert.Equal(31, Devices(own).Count);
    }

    [Fact]
    public void Build_SharedPool_PublishesThePoolLessForeignCostsWithoutGroups()
    {
        var node = new NodeCapacity("node1", [SliceModels.Parent(SliceModels.Gvt("0000:00:02.0"), new ActiveDevice(Guid.NewGuid(), "0000:00:02.0", "i915-GVTg_V5_4"))]);

        var slices = ResourceSliceBuilder.Build(node, s_none, 1);

        Assert.Equal("17", Set(slices, "0000-00-02-0").Counters["pool"].Value.ToString());
        var devices = Devices(slices);
        Assert.Equal(7 + 4 + 2 + 1, devices.Count);
        Assert.All(devices, device => Assert.Null(device.ConsumesCounters.Single().CompatibilityGroups));
        Assert.Equal("intel", devices[0].Attributes["vendor"].StringValue);
        Assert.Equal("8", devices.First(device => device.Attributes["type"].StringValue == "i915-GVTg_V5_2").ConsumesCounters.Single().Counters["pool"].Value.ToString());
    }

    [Fact]
    public void Build_OneSizeGpu_FramebufferAndVirtualFunctionsGroupedBySize()
    {
        var slices = ResourceSliceBuilder.Build(new NodeCapacity("node1", [SliceModels.Parent(SliceModels.L40S("0000:c1:00.0"))]), s_none, 1);

        var set = Set(slices, "0000-c1-00-0");
        Assert.Equal(("49152", "32"), (set.Counters["framebuffer"].Value.ToString(), set.Counters["vfs"].Value.ToString()));
        var device = Devices(slices).Single(device => device.Name == "0000-c1-00-0-nvidia-1156-0");
        Assert.Equal(("NVIDIA L40S-2Q", 2048L), (device.Attributes["typeName"].StringValue, device.Attributes["framebufferMiB"].IntValue));
        var consumption = device.ConsumesCounters.Single();
        Assert.Equal(("2048", "1"), (consumption.Counters["framebuffer"].Value.ToString(), consumption.Counters["vfs"].Value.ToString()));
        Assert.Equal(["fb-2048"], consumption.CompatibilityGroups);
        Assert.Empty(SliceLimits.PoolViolations(slices));
    }

    [Fact]
    public void Build_Independent_NoCountersAndUpTo128DevicesASlice()
    {
        var model = CapacityModel.FromAvailability("mtty", [("mtty-1", 150), ("mtty-2", 50)]);

        var slices = ResourceSliceBuilder.Build(new NodeCapacity("node1", [SliceModels.Parent(model)]), s_none, 1);

        Assert.Equal([128, 72], slices.Select(slice => slice.Spec.Devices.Count));
        Assert.All(slices, slice => Assert.Null(slice.Spec.SharedCounters));
        Assert.All(Devices(slices), device => Assert.Null(device.ConsumesCounters));
        Assert.Empty(SliceLimits.PoolViolations(slices));
    }

    [Fact]
    public void Build_ManyGpus_SplitsCounterSetsAndDevicesWithinTheLimits()
    {
        var parents = Enumerable.Range(0, 20).Select(index => SliceModels.Parent(SliceModels.M60($"0000:{index + 16:x2}:00.0"))).ToList();

        var slices = ResourceSliceBuilder.Build(new NodeCapacity("node1", parents), s_none, 1);

        Assert.Equal([8, 8, 4], slices.Where(slice => slice.Spec.SharedCounters is not null).Select(slice => slice.Spec.SharedCounters.Count));
        Assert.Equal(20 * 31, Devices(slices).Count);
        Assert.All(slices.Where(slice => slice.Spec.Devices is not null), slice => Assert.InRange(slice.Spec.Devices.Count, 1, 64));
        Assert.Equal(slices.Count, slices.Select(slice => slice.Metadata.Name).Distinct().Count());
        Assert.Empty(SliceLimits.PoolViolations(slices));
    }

    [Fact]
    public void Build_LongOrClashingNames_HashedStableLabels()
    {
        var longParent = "css-" + new string('a', 58);
        CapacityModel Model(string parent, params string[] types) => CapacityModel.FromAvailability(parent, types.Select(type => (type, 2)));
        var node = new NodeCapacity("node1", [SliceModels.Parent(Model(longParent, "vfio_ccw-io")), SliceModels.Parent(Model("p", "a.b", "a_b"))]);

        var first = ResourceSliceBuilder.Build(node, s_none, 1);
        var again = ResourceSliceBuilder.Build(node, s_none, 2);

        var names = Devices(first).Select(device => device.Name).ToList();
        Assert.Equal(names, Devices(again).Select(device => device.Name));
        Assert.All(names, name => Assert.True(DnsLabel.IsLabel(name), name));
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Empty(SliceLimits.PoolViolations(first));
    }
}
