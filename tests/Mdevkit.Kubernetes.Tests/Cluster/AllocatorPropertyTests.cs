using CsCheck;
using k8s.Models;
using Mdevkit.Kubernetes.Cluster;

namespace Mdevkit.Kubernetes.Tests.Cluster;

/// <summary>
/// Random pools not made by the slice builder (several counters per set, devices in one or two groups, devices from
/// two nodes, an incomplete pool): whatever claims arrive, no counter is overdrawn, groups always meet, and an
/// incomplete pool is never allocated from.
/// </summary>
public sealed class AllocatorPropertyTests
{
    private const string Driver = "test.example.com";
    private static readonly string[] s_groups = ["a", "b", "c"];

    // A device: the set it consumes from (0-2), two counters' amounts, its groups (bits of a, b, c) and its kind (0-2).
    private static readonly Gen<(int Set, int X, int Y, int Groups, int Kind)> s_device = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 5], Gen.Int[0, 5], Gen.Int[0, 7], Gen.Int[0, 2]);

    private static V1ResourceSlice Slice(string node, long generation, long count, V1ResourceSliceSpec spec) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"{node}-{Guid.NewGuid():N}" },
        Spec = spec with { Driver = Driver, NodeName = node, Pool = new V1ResourcePool { Name = node, Generation = generation, ResourceSliceCount = count } },
    };

    [Fact]
    public void RandomPools_NeverOverAllocate_GroupsMeet_IncompletePoolUnused()
    {
        Gen.Select(s_device.Array[1, 40], Gen.Int[1, 12].Array[6], Gen.Int[0, 2].Array[1, 60]).Sample((devices, values, stream) =>
        {
            var slices = new List<V1ResourceSlice>();
            foreach (var node in new[] { "n1", "n2" })
            {
                var sets = Enumerable.Range(0, 3).Select(set => new V1CounterSet
                {
                    Name = $"set{set}",
                    Counters = new Dictionary<string, V1Counter> { ["x"] = new() { Value = new ResourceQuantity($"{values[set]}") }, ["y"] = new() { Value = new ResourceQuantity($"{values[set + 3]}") } },
                }).ToList();
                var published = devices.Select((device, index) => new V1Device
                {
                    Name = $"d{index}",
                    Attributes = new Dictionary<string, V1DeviceAttribute> { ["kind"] = new() { StringValue = $"k{device.Kind}" } },
                    ConsumesCounters =
                    [
                        new V1DeviceCounterConsumption
                        {
                            CounterSet = $"set{device.Set}",
                            Counters = new Dictionary<string, V1Counter> { ["x"] = new() { Value = new ResourceQuantity($"{device.X}") }, ["y"] = new() { Value = new ResourceQuantity($"{device.Y}") } },
                            CompatibilityGroups = device.Groups == 0 ? null : [.. s_groups.Where((_, bit) => (device.Groups & (1 << bit)) != 0)],
                        },
                    ],
                }).ToList();
                slices.Add(Slice(node, 1, 2, new V1ResourceSliceSpec { SharedCounters = sets }));
                slices.Add(Slice(node, 1, 2, new V1ResourceSliceSpec { Devices = published }));
            }
            // A third node whose pool misses one of its two slices.
            slices.Add(Slice("n3", 1, 2, new V1ResourceSliceSpec { Devices = [new V1Device { Name = "lonely", Attributes = new Dictionary<string, V1DeviceAttribute> { ["kind"] = new() { StringValue = "k0" } } }] }));

            var allocator = new Allocator([AllocatorClaims.DeviceClass(Driver)]);
            var claims = new List<Resourcev1ResourceClaim>();
            foreach (var kind in stream)
            {
                var claim = AllocatorClaims.ForAttribute($"c{claims.Count}", Driver, "kind", $"k{kind}", 1 + (kind % 2));
                if (allocator.Allocate(slices, claims, claim) is { } allocation)
                {
                    Assert.Single(allocation.Devices.Results.Select(result => result.Pool).Distinct());
                    claims.Add(claim with { Status = new V1ResourceClaimStatus { Allocation = allocation } });
                }
            }

            Assert.Empty(Allocator.Check(slices, claims));
            Assert.DoesNotContain(claims.SelectMany(claim => claim.Status.Allocation.Devices.Results), result => result.Pool == "n3");
        }, iter: 150);
    }

    [Fact]
    public void Allocate_UnsupportedSelector_Refused()
    {
        var allocator = new Allocator([AllocatorClaims.DeviceClass(Driver)]);
        var claim = AllocatorClaims.ForAttribute("c", Driver, "kind", "k0");
        claim.Spec.Devices.Requests[0].Exactly.Selectors[0].Cel.Expression = "device.attributes[\"test.example.com\"].kind.startsWith(\"k\")";

        var refused = Assert.Throws<NotSupportedException>(() => allocator.Allocate([], [], claim));
        Assert.Contains("startsWith", refused.Message);
    }
}
