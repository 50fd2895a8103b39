using Mdevkit.Management.Planning;

namespace Mdevkit.Management.Tests.Planning;

/// <summary>Inferring capacity models from fake parents' availability rules, and cleaning up whatever happens.</summary>
public sealed class CapacityInferenceTests
{
    [Fact]
    public void Infer_OneTypeAtATime_IsExclusiveWithEachMaximum()
    {
        var parent = FakeParent.Exclusive(("nvidia-11", 16), ("nvidia-18", 4), ("nvidia-22", 1));

        var model = CapacityInference.Infer("gpu", parent, TestContext.Current.CancellationToken);

        Assert.Equal((CapacityKind.Exclusive, true), (model.Kind, model.Verified));
        Assert.Equal([new("nvidia-11", 16), new("nvidia-18", 4), new("nvidia-22", 1)], model.Types);
        Assert.Equal(0, parent.DeviceCount);
    }

    [Fact]
    public void Infer_CommonPool_FindsTheSmallestIntegerCosts()
    {
        var parent = FakeParent.Pool(256, ("small", 4), ("medium", 16), ("large", 64));

        var model = CapacityInference.Infer("mbochs", parent, TestContext.Current.CancellationToken);

        Assert.Equal((CapacityKind.SharedPool, 64, true), (model.Kind, model.Pool, model.Verified));
        Assert.Equal([("small", 64, 1), ("medium", 16, 4), ("large", 4, 16)], model.Types.Select(type => (type.Type, type.Max, type.Cost!.Value)));
        Assert.Equal(0, parent.DeviceCount);
    }

    private static readonly (string Type, int Size)[] s_gpuTypes = [("1B", 1024), ("1Q", 1024), ("2Q", 2048), ("12Q", 12288), ("12A", 12288), ("24Q", 24576), ("48Q", 49152)];

    [Fact]
    public void InferGpu_EqualSizeMode_IsOneSizeWithEachSizesMaximumCappedByTheVfs()
    {
        var gpu = FakeParent.Gpu(49152, 32, mixed: false, s_gpuTypes);

        var model = CapacityInference.InferGpu("gpu", 32, gpu, s_gpuTypes.ToDictionary(type => type.Type, type => (int?)type.Size), TestContext.Current.CancellationToken);

        Assert.Equal((CapacityKind.OneSize, true, 32, (int?)null), (model.Kind, model.Verified, model.Slots, model.Pool));
        Assert.Equal([32, 32, 24, 4, 4, 2, 1], model.Types.Select(type => type.Max));
        // One device of each size is filled, not of each type: 32 + 24 + 4 + 2 + 1.
        Assert.Equal(63, gpu.Creates);
        Assert.Equal(0, gpu.DeviceCount);
    }

    [Fact]
    public void InferGpu_MixedSizeMode_IsAFramebufferPoolInMiB()
    {
        var gpu = FakeParent.Gpu(49152, 32, mixed: true, s_gpuTypes);

        var model = CapacityInference.InferGpu("gpu", 32, gpu, s_gpuTypes.ToDictionary(type => type.Type, type => (int?)type.Size), TestContext.Current.CancellationToken);

        Assert.Equal((CapacityKind.SharedPool, true, 32, (int?)49152), (model.Kind, model.Verified, model.Slots, model.Pool));
        Assert.Equal(s_gpuTypes.Select(type => (int?)type.Size), model.Types.Select(type => type.Cost));
        Assert.Equal((1, 2), (model.Available("24Q", new Dictionary<string, int> { ["1Q"] = 3 }), model.Available("12Q", new Dictionary<string, int> { ["24Q"] = 1 })));
    }

    [Fact]
    public void InferGpu_SizesTheTypesDoNotState_AreNotVerified()
    {
        // The types claim sizes the GPU does not keep to (it holds two "48Q"): no model of these sizes reproduces that.
        var gpu = FakeParent.Gpu(49152, 32, mixed: false, s_gpuTypes);
        var sizes = s_gpuTypes.ToDictionary(type => type.Type, type => (int?)(type.Type == "12A" ? 2048 : type.Size));

        var model = CapacityInference.InferGpu("gpu", 32, gpu, sizes, TestContext.Current.CancellationToken);

        Assert.False(model.Verified);
    }

    [Fact]
    public void Infer_GvtResources_FitsAPoolThatReproducesEveryFill()
    {
        var model = CapacityInference.Infer("igpu", FakeParent.Gvt(), TestContext.Current.CancellationToken);

        Assert.Equal((CapacityKind.SharedPool, true), (model.Kind, model.Verified));
        Assert.Equal([1, 2, 5, 7], model.Types.Select(type => type.Max));
    }

    [Fact]
    public void Infer_TypesThatDoNotInteract_IsIndependent()
    {
        var model = CapacityInference.Infer("p", FakeParent.Independent(("a", 3), ("b", 2)), TestContext.Current.CancellationToken);

        Assert.Equal(CapacityKind.Independent, model.Kind);
        Assert.Equal([3, 2], model.Types.Select(type => type.Max));
    }

    [Fact]
    public void Infer_TwoResourcesWithoutAnExactPool_NeverPromisesMoreThanTheParentHas()
    {
        // "a" uses only memory, "b" only ports, "c" both: no single pool reproduces that.
        var parent = new FakeParent(["a", "b", "c"], (counts, type) =>
        {
            var memory = 6 - counts.GetValueOrDefault("a") - (2 * counts.GetValueOrDefault("c"));
            var ports = 6 - counts.GetValueOrDefault("b") - (2 * counts.GetValueOrDefault("c"));
            return Math.Max(0, type switch { "a" => memory, "b" => ports, _ => Math.Min(memory, ports) / 2 });
        });

        var model = CapacityInference.Infer("p", parent, TestContext.Current.CancellationToken);

        Assert.Equal(CapacityKind.SharedPool, model.Kind);
        foreach (var (a, b, c) in from a in Enumerable.Range(0, 7) from b in Enumerable.Range(0, 7) from c in Enumerable.Range(0, 4) select (a, b, c))
        {
            var counts = new Dictionary<string, int> { ["a"] = a, ["b"] = b, ["c"] = c };
            var reallyFits = a + (2 * c) <= 6 && b + (2 * c) <= 6;
            Assert.True(!model.Fits(counts) || reallyFits, $"model admits a={a} b={b} c={c}");
        }
    }

    [Fact]
    public void Infer_CreateFailsMidway_RemovesEverythingAndThrows()
    {
        var parent = FakeParent.Pool(24, ("mtty-1", 1), ("mtty-2", 2));
        parent.FailAtCreate = 5;

        var error = Assert.Throws<MdevctlException>(() => CapacityInference.Infer("mtty", parent, TestContext.Current.CancellationToken));

        Assert.StartsWith("Failed to create mdev", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, parent.DeviceCount);
    }

    [Fact]
    public void Infer_CancelledMidway_RemovesEverythingAndThrows()
    {
        using var cancellation = new CancellationTokenSource();
        var parent = FakeParent.Exclusive(("nvidia-11", 16), ("nvidia-12", 16));
        parent.OnCreate = count =>
        {
            if (count == 1)
            {
                cancellation.Cancel();
            }
        };

        Assert.Throws<OperationCanceledException>(() => CapacityInference.Infer("gpu", parent, cancellation.Token));

        Assert.Equal((1, 0), (parent.Creates, parent.DeviceCount));
    }
}
