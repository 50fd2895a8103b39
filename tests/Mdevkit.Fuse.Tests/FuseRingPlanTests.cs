using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>Which queues a connection over io_uring has, read from the kernel's CPU lists.</summary>
public sealed class FuseRingPlanTests : IDisposable
{
    private readonly TempRoot _cpus = new(nameof(FuseRingPlanTests));

    public void Dispose() => _cpus.Dispose();

    [Fact]
    public void EveryPossibleCpu_HasAQueue_AndOnlyTheOnlineOnesServe()
    {
        _cpus.File("possible", "0-3,6\n");
        _cpus.File("online", "0,2-3\n");

        Assert.Equal([(0, true), (1, false), (2, true), (3, true), (4, false), (5, false), (6, false)], FuseRing.PlanQueues(_cpus.Path)!);
    }

    [Theory]
    [InlineData(null, "0-1")]
    [InlineData("0-1", null)]
    [InlineData("0-1", "")]
    [InlineData("0-x", "0-1")]
    public void CpuListsMissingOrUnreadable_MeanNoRing(string? online, string? possible)
    {
        if (online is not null)
        {
            _cpus.File("online", online);
        }
        if (possible is not null)
        {
            _cpus.File("possible", possible);
        }

        Assert.Null(FuseRing.PlanQueues(_cpus.Path)!);
    }
}
