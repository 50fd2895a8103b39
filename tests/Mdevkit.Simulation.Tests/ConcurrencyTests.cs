using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>Parallel writers to <c>create</c>: the core serializes them as the kernel does.</summary>
public sealed class ConcurrencyTests
{
    private const int Racers = 16;

    [Theory]
    [InlineData("samples", "mdpy", "mdpy-vga", Errno.EUSERS)]
    [InlineData("samples", "mtty", "mtty-2", Errno.ENOSPC)]
    [InlineData("samples", "mbochs", "mbochs-large", Errno.ENOSPC)]
    [InlineData("nvidia", "0000:3e:00.0", "nvidia-18", Errno.EINVAL)]
    [InlineData("gvt", "0000:00:02.0", "i915-GVTg_V5_4", Errno.ENOSPC)]
    [InlineData("s390", "0.0.0123", "vfio_ccw-io", Errno.EUSERS)]
    public void ParallelCreates_RacingForLastInstance_ExactlyOneWins(string profile, string parent, string type, Errno loserErrno)
    {
        var host = HostFiles.Boot(profile);
        while (host.Available(parent, type) > 1)
        {
            Assert.Equal(Errno.None, host.Create(parent, type, Guid.NewGuid()));
        }

        var results = Race(Racers, _ => host.Create(parent, type, Guid.NewGuid()));

        Assert.Equal(1, results.Count(result => result == Errno.None));
        Assert.All(results.Where(result => result != Errno.None), result => Assert.Equal(loserErrno, result));
        Assert.Equal(0u, host.Available(parent, type));
    }

    [Fact]
    public void ParallelCreates_SameUuid_ExactlyOneWins()
    {
        var host = HostFiles.Boot("samples");
        var uuid = Guid.NewGuid();
        string[] parents = ["mtty", "mdpy", "mbochs"];
        string[] types = ["mtty-1", "mdpy-hd", "mbochs-small"];

        var results = Race(Racers, i => host.Create(parents[i % 3], types[i % 3], uuid));

        Assert.Equal(1, results.Count(result => result == Errno.None));
        Assert.All(results.Where(result => result != Errno.None), result => Assert.Equal(Errno.EEXIST, result));
    }

    [Fact]
    public void ParallelMixedCreatesAndRemoves_PortsNeverOvercommitted()
    {
        var host = HostFiles.Boot("samples");

        Race(Racers, i =>
        {
            for (var round = 0; round < 50; round++)
            {
                var uuid = Guid.NewGuid();
                if (host.Create("mtty", i % 2 == 0 ? "mtty-1" : "mtty-2", uuid) == Errno.None && round % 3 == 0)
                {
                    Assert.Equal(Errno.None, host.Remove(uuid));
                }
            }
            return Errno.None;
        });

        var usedPorts = host.Core.Devices.Sum(device => device.Type.Id == "mtty-2" ? 2 : 1);
        Assert.True(usedPorts <= 24, $"{usedPorts} ports in use");
        Assert.Equal((uint)(24 - usedPorts), host.Available("mtty", "mtty-1"));
    }

    private static Errno[] Race(int count, Func<int, Errno> action)
    {
        using var start = new Barrier(count);
        var threads = Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            return action(i);
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        return Task.WhenAll(threads).GetAwaiter().GetResult();
    }
}
