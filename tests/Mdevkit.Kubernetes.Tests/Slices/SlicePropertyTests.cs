using CsCheck;
using k8s.Models;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Tests.Slices;

/// <summary>
/// Random nodes of every model kind, with devices the driver did not make: the slices keep the API's limits, and
/// allocating claims of random types until nothing more fits never goes beyond the model and leaves nothing the model
/// would still offer.
/// </summary>
public sealed class SlicePropertyTests
{
    private static readonly int[] s_exclusiveMaxima = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32];
    private static readonly int[] s_gib = [1, 2, 4, 8, 12, 24, 48];

    private static readonly Gen<CapacityModel> s_exclusive = Gen.Int[0, s_exclusiveMaxima.Length - 1].Array[1, 6].Select(maxima =>
        new CapacityModel("p", CapacityKind.Exclusive, [.. maxima.Select((index, type) => new TypeCapacity($"nvidia-{type}", s_exclusiveMaxima[index]))]));

    private static readonly Gen<CapacityModel> s_pool = Gen.Int[4, 64].SelectMany(pool => Gen.Int[1, pool].Array[1, 5].Select(costs =>
        new CapacityModel("p", CapacityKind.SharedPool, [.. costs.Select((cost, type) => new TypeCapacity($"mdpy-{type}", pool / cost, cost))], pool)));

    // SR-IOV GPUs of 48 GiB: one size at a time, or mixed sizes from one pool; a vGPU a virtual function either way.
    private static readonly Gen<CapacityModel> s_sriov = Gen.Select(Gen.Bool, Gen.Int[2, 32], Gen.Int[0, s_gib.Length - 1].Array[1, 6]).Select((mixed, slots, sizes) =>
        new CapacityModel("p", mixed ? CapacityKind.SharedPool : CapacityKind.OneSize,
            [.. sizes.Select((size, type) => new TypeCapacity($"nvidia-{type}", Math.Min(slots, 48 / s_gib[size]), mixed ? s_gib[size] * 1024 : null, s_gib[size] * 1024))],
            mixed ? 48 * 1024 : null, Slots: slots));

    private static readonly Gen<CapacityModel> s_independent = Gen.Int[0, 40].Array[1, 4].Select(maxima =>
        new CapacityModel("p", CapacityKind.Independent, [.. maxima.Select((max, type) => new TypeCapacity($"mtty-{type}", max))]));

    // A node: parents of random kinds, each with devices of random types made while the model allowed them, and the
    // order in which claims of random types arrive.
    private static readonly Gen<(CapacityModel Model, int[] Foreign)[]> s_parents =
        Gen.Select(Gen.OneOf(s_exclusive, s_pool, s_sriov, s_independent), Gen.Int[0, 8].Array[0, 6]).Array[1, 10];

    [Fact]
    public void RandomNode_SlicesKeepLimits_AllocationFitsModelsAndLeavesNothingOffered()
    {
        Gen.Select(s_parents, Gen.Int[0, 1000].Array[0, 200]).Sample((parents, stream) =>
        {
            var models = parents.Select((parent, index) => parent.Model with { Parent = $"0000:{index:x2}:00.0" }).ToList();
            var counts = models.Select(_ => new Dictionary<string, int>()).ToList();
            var sliceParents = new List<SliceParent>();
            for (var index = 0; index < models.Count; index++)
            {
                var running = new List<ActiveDevice>();
                foreach (var pick in parents[index].Foreign)
                {
                    var type = models[index].Types[pick % models[index].Types.Count].Type;
                    if (models[index].Available(type, counts[index]) > 0)
                    {
                        counts[index][type] = counts[index].GetValueOrDefault(type) + 1;
                        running.Add(new ActiveDevice(Guid.NewGuid(), models[index].Parent, type));
                    }
                }
                sliceParents.Add(SliceModels.Parent(models[index], [.. running]));
            }
            var slices = ResourceSliceBuilder.Build(new NodeCapacity("node1", sliceParents), new HashSet<Guid>(), 1);
            Assert.Empty(SliceLimits.PoolViolations(slices));

            var allocator = new Allocator([AllocatorClaims.DeviceClass(DraNames.Driver)]);
            var claims = new List<Resourcev1ResourceClaim>();
            var types = models.SelectMany(model => model.Types.Select(type => type.Type)).Distinct().ToList();
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
            foreach (var pick in stream)
            {
                Claim(types[pick % types.Count]);
            }
            // Then each type until one does not fit: the node is full for every type.
            foreach (var type in types)
            {
                while (Claim(type))
                {
                }
            }
            Assert.Empty(Allocator.Check(slices, claims));
            var devices = slices.SelectMany(slice => slice.Spec.Devices ?? []).ToDictionary(device => device.Name);
            foreach (var result in claims.Select(claim => claim.Status.Allocation.Devices.Results.Single()))
            {
                var device = devices[result.Device];
                var index = models.FindIndex(model => model.Parent == device.Attributes[DraNames.ParentAttribute].StringValue);
                var type = device.Attributes[DraNames.TypeAttribute].StringValue;
                counts[index][type] = counts[index].GetValueOrDefault(type) + 1;
            }
            for (var index = 0; index < models.Count; index++)
            {
                Assert.True(models[index].Fits(counts[index]), $"{models[index]} cannot hold {string.Join(", ", counts[index])}");
                Assert.All(models[index].Types, type => Assert.Equal(0, models[index].Available(type.Type, counts[index])));
            }
        }, iter: 80);
    }
}
