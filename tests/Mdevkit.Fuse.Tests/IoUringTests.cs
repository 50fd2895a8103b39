using System.Collections.Concurrent;
using Mdevkit.Simulation;
using Mdevkit.Simulation.Profiles;
using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>The mount served over io_uring: what goes through the ring, many writers at once, and the end of it.</summary>
[Collection(FuseOverIoUring.Collection)]
public sealed class IoUringTests : IDisposable
{
    private const string Types = "sys/class/mdev_bus/mtty/mdev_supported_types";
    private readonly MountedHost _mounted = new("samples", nameof(IoUringTests));

    public void Dispose() => _mounted.Dispose();

    [Fact]
    public void EachLookOfAMissingName_IsOneRequestAnsweredThroughTheRing()
    {
        const int looks = 200;
        var before = _mounted.Mount.Ring.Served;

        var result = _mounted.Bash($"for i in $(seq {looks}); do stat sys/missing-$i 2>/dev/null; done; echo done");

        Assert.Equal(new CommandResult(0, "done\n", ""), result);
        Assert.True(_mounted.Mount.Ring.Active);
        Assert.InRange(_mounted.Mount.Ring.Served - before, looks, looks * 2);
    }

    [Fact]
    public async Task WritersOnEveryCpu_CreateAndRemoveAtOnce_AndNothingIsLost()
    {
        const int writers = 8;
        const int rounds = 40;
        var script = $$"""
            for i in $(seq {{rounds}}); do
              uuid=$(cat /proc/sys/kernel/random/uuid)
              echo $uuid > {{Types}}/mtty-1/create || exit 1
              [ -d sys/bus/mdev/devices/$uuid ] || exit 2
              echo 1 > sys/bus/mdev/devices/$uuid/remove || exit 3
              [ ! -e sys/bus/mdev/devices/$uuid ] || exit 4
            done
            """;
        var before = _mounted.Mount.Ring.Served;

        var results = await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => _mounted.BashInBackground(script)));

        Assert.All(results, result => Assert.Equal(new CommandResult(0, "", ""), result));
        Assert.Empty(_mounted.Host.Core.Devices);
        Assert.True(_mounted.Mount.Ring.Served - before >= writers * rounds * 4, $"{_mounted.Mount.Ring.Served - before} requests over the ring");
    }

    [Fact]
    public void Unmount_WhileAReaderHoldsAFileOpen_DetachesAndTheReaderGetsAnError() =>
        RobustnessTests.UnmountUnderAReader(mount => Assert.True(mount.Ring.Active));

    [Fact]
    public void Unmount_EndsEveryRingThread_WithoutAWarning()
    {
        using var root = new TempRoot(nameof(IoUringTests));
        var host = SimulatedHost.Boot(HostProfile.Load("samples"));
        var warnings = new ConcurrentQueue<string>();
        Directory.CreateDirectory(root.Join("sys"));
        var mount = FuseMount.Mount(host.Tree, "sys", root.Join("sys"), warnings.Enqueue);
        var listing = CommandRunner.Run("ls", [root.Join("sys/class/mdev_bus")]);

        mount.Dispose();

        Assert.Equal(new CommandResult(0, "mbochs\nmdpy\nmtty\n", ""), listing);
        Assert.True(mount.Ring.Active);
        Assert.True(mount.Ring.Stop(TimeSpan.Zero), "a ring thread outlived the unmount");
        Assert.Empty(warnings);
        host.Core.Shutdown();
    }
}
