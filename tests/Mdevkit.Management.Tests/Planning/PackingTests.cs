using Mdevkit.Bench.PlanQuality;
using Mdevkit.Management.Planning;

namespace Mdevkit.Management.Tests.Planning;

/// <summary>The capacity models' arithmetic and the packer against first-fit and the exhaustive optimum.</summary>
public sealed class PackingTests
{
    private static readonly Dictionary<string, int> s_none = [];

    private static Bin Exclusive(string parent, params (string Type, int Max)[] types) =>
        new(new CapacityModel(parent, CapacityKind.Exclusive, [.. types.Select(type => new TypeCapacity(type.Type, type.Max))]), s_none);

    private static Bin Pool(string parent, int pool, params (string Type, int Cost)[] types) =>
        new(new CapacityModel(parent, CapacityKind.SharedPool, [.. types.Select(type => new TypeCapacity(type.Type, pool / type.Cost, type.Cost))], pool), s_none);

    // An A40's equal-size mode: one framebuffer size at a time, as many as the framebuffer holds, one per virtual function.
    private static Bin A40(string parent) =>
        new(new CapacityModel(parent, CapacityKind.OneSize, [.. new[] { ("1Q", 1), ("12Q", 12), ("12A", 12), ("24Q", 24) }
            .Select(type => new TypeCapacity(type.Item1, Math.Min(48 / type.Item2, 32), Size: type.Item2 * 1024))], Slots: 32), s_none);

    [Fact]
    public void Available_OneSizeGpu_CountsEveryTypeOfTheSizeTogether_AndSlotsCapEveryKind()
    {
        var a40 = A40("gpu").Model;
        var twelve = new Dictionary<string, int> { ["12Q"] = 3 };
        var pool = Pool("gpu", 48, ("1Q", 1), ("24Q", 24)).Model with { Slots = 4 };

        Assert.Equal((1, 1, 0, 0), (a40.Available("12Q", twelve), a40.Available("12A", twelve), a40.Available("24Q", twelve), a40.Available("1Q", twelve)));
        Assert.True(a40.Fits(new Dictionary<string, int> { ["12Q"] = 2, ["12A"] = 2 }));
        Assert.False(a40.Fits(new Dictionary<string, int> { ["12Q"] = 3, ["12A"] = 2 }));
        Assert.False(a40.Fits(new Dictionary<string, int> { ["12Q"] = 1, ["24Q"] = 1 }));
        Assert.Equal(32, a40.Available("1Q", s_none));
        Assert.Equal((3, 0), (pool.Available("1Q", new Dictionary<string, int> { ["1Q"] = 1 }), pool.Available("1Q", new Dictionary<string, int> { ["1Q"] = 4 })));
        Assert.False(pool.Fits(new Dictionary<string, int> { ["1Q"] = 5 }));
    }

    [Fact]
    public void Place_TwoA40s_PutsEachSizeOnAGpuOfItsOwn()
    {
        Bin[] bins = [A40("gpu0"), A40("gpu1")];
        DeviceRequest[] requests = [new("12Q", 4), new("24Q", 2)];

        var placed = Packing.Place(bins, requests);

        Assert.Equal(6, Packing.Placed(placed));
        Assert.All(placed, counts => Assert.Single(counts));
        Assert.Equal(6, Exhaustive.Optimum(bins, requests));
    }

    [Fact]
    public void Available_EachKind_FollowsItsRule()
    {
        var counts = new Dictionary<string, int> { ["a"] = 1 };
        var exclusive = Exclusive("p", ("a", 4), ("b", 4)).Model;
        var pool = Pool("p", 8, ("a", 3), ("b", 2)).Model;
        var independent = exclusive with { Kind = CapacityKind.Independent };

        Assert.Equal((3, 0), (exclusive.Available("a", counts), exclusive.Available("b", counts)));
        Assert.Equal((1, 2), (pool.Available("a", counts), pool.Available("b", counts)));
        Assert.Equal((3, 4), (independent.Available("a", counts), independent.Available("b", counts)));
        Assert.False(exclusive.Fits(new Dictionary<string, int> { ["a"] = 1, ["b"] = 1 }));
        Assert.False(pool.Fits(new Dictionary<string, int> { ["a"] = 2, ["b"] = 2 }));
    }

    [Fact]
    public void Place_ExclusiveParents_PutsASmallGroupOnTheParentItFillsWhereFirstFitBlocksTheBigOne()
    {
        // First-fit puts the two "small" on the big GPU, which then cannot take "big" (one type at a time).
        Bin[] bins = [Exclusive("gpu-big", ("small", 8), ("big", 8)), Exclusive("gpu-small", ("small", 2))];
        DeviceRequest[] requests = [new("small", 2), new("big", 6)];

        var placed = Packing.Place(bins, requests);

        Assert.Equal(2, Packing.Placed(Packing.FirstFit(bins, requests)));
        Assert.Equal([new Dictionary<string, int> { ["big"] = 6 }, new Dictionary<string, int> { ["small"] = 2 }], placed);
    }

    [Fact]
    public void Place_SharedPools_BestFitDecreasingPlacesEverythingFirstFitCannot()
    {
        // In request order, first-fit puts both small ones in one pool; then only one large one fits.
        Bin[] bins = [Pool("a", 10, ("s", 4), ("l", 6)), Pool("b", 10, ("s", 4), ("l", 6))];
        DeviceRequest[] requests = [new("s", 2), new("l", 2)];

        var placed = Packing.Place(bins, requests);

        Assert.Equal(3, Packing.Placed(Packing.FirstFit(bins, requests)));
        Assert.Equal([new Dictionary<string, int> { ["s"] = 1, ["l"] = 1 }, new Dictionary<string, int> { ["s"] = 1, ["l"] = 1 }], placed);
    }

    [Fact]
    public void Place_ExistingDevices_AreCountedAndNeverMoved()
    {
        Bin[] bins = [Exclusive("gpu0", ("a", 4), ("b", 4)) with { Existing = new Dictionary<string, int> { ["b"] = 1 } }, Exclusive("gpu1", ("a", 4), ("b", 4))];

        var placed = Packing.Place(bins, [new("a", 6)]);

        Assert.Equal([s_none, new Dictionary<string, int> { ["a"] = 4 }], placed);
    }

    private static Bin WithSlots(Bin bin, int slots) => bin with { Model = bin.Model with { Slots = slots } };

    [Fact]
    public void Place_RandomSmallHosts_IsFeasibleAndBetweenFirstFitAndTheOptimum()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 300; trial++)
        {
            var types = new[] { "t0", "t1", "t2" };
            var bins = Enumerable.Range(0, random.Next(1, 4)).Select(index => random.Next(3) switch
            {
                0 => Exclusive($"p{index}", [.. types.Select(type => (type, random.Next(1, 5)))]),
                1 => Pool($"p{index}", random.Next(4, 13), [.. types.Select(type => (type, random.Next(1, 5)))]),
                // An SR-IOV GPU: one size at a time, or a pool with a few virtual functions.
                _ when random.Next(2) == 0 => new Bin(new CapacityModel($"p{index}", CapacityKind.OneSize,
                    [.. types.Select(type => (Type: type, Size: random.Next(1, 4))).Select(type => new TypeCapacity(type.Type, 6 / type.Size, Size: type.Size))], Slots: random.Next(2, 6)), s_none),
                _ => WithSlots(Pool($"p{index}", random.Next(4, 13), [.. types.Select(type => (type, random.Next(1, 5)))]), random.Next(1, 5)),
            }).ToList();
            var requests = Enumerable.Range(0, random.Next(1, 5)).Select(_ => new DeviceRequest(types[random.Next(types.Length)], random.Next(1, 4))).ToList();

            var placed = Packing.Place(bins, requests);

            Assert.All(Enumerable.Range(0, bins.Count), index => Assert.True(bins[index].Model.Fits(placed[index])));
            Assert.InRange(Packing.Placed(placed), Packing.Placed(Packing.FirstFit(bins, requests)), Exhaustive.Optimum(bins, requests));
        }
    }
}
