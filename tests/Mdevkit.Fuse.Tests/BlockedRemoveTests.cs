using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>Writes to <c>remove</c> that wait for the holders of open devices, while everyone else goes on using the mount.</summary>
public sealed class BlockedRemoveTests : BlockedRemoves;

/// <summary>
/// The same over io_uring, where each blocked write keeps a ring entry of its CPU's queue, which starts with
/// far fewer than twelve.
/// </summary>
[Collection(FuseOverIoUring.Collection)]
public sealed class BlockedRemoveOverIoUringTests : BlockedRemoves
{
    private protected override void Check(MountedHost mounted) => FuseOverIoUring.AssertServes(mounted.Mount);
}

/// <summary>What <see cref="BlockedRemoveTests"/> checks, on whichever transport the kernel runs the mount.</summary>
public abstract class BlockedRemoves : IDisposable
{
    // Two more than libfuse's default limit of 10 workers.
    private const int Blocked = 12;
    private readonly TempRoot _profiles = new(nameof(BlockedRemoveTests));

    public void Dispose()
    {
        _profiles.Dispose();
        GC.SuppressFinalize(this);
    }

    // What a transport checks of the mount after the test.
    private protected virtual void Check(MountedHost mounted)
    {
    }

    [Fact]
    public async Task MoreBlockedRemovesThanLibfusesDefaultWorkers_LeaveTheMountAnswering()
    {
        _profiles.File("mtty.json", """{ "name": "mtty", "parents": [ { "driver": "mtty" }, { "driver": "mdpy" } ] }""");
        using var mounted = new MountedHost(_profiles.Join("mtty.json"), nameof(BlockedRemoveTests));
        var uuids = Enumerable.Range(0, Blocked).Select(_ => Guid.NewGuid().ToString()).ToArray();
        foreach (var uuid in uuids)
        {
            File.WriteAllText(mounted.Join("sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create"), uuid);
        }
        var held = uuids.Select(uuid => new FileStream(mounted.Join($"dev/vfio/{new FileInfo(mounted.Join($"sys/bus/mdev/devices/{uuid}/iommu_group")).LinkTarget!.Split('/')[^1]}"),
            FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0)).ToArray();
        Task<CommandResult>[] removes = [];
        var waiting = 0;
        CommandResult? listing = null;
        try
        {
            removes = [.. uuids.Select(uuid => Task.Factory.StartNew(() => mounted.Bash($"echo 1 > sys/bus/mdev/devices/{uuid}/remove"),
                TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
            // Each remove has asked its holder, so each one is parked in the mount, holding a request.
            var allWaiting = SpinWait.SpinUntil(() => (waiting = mounted.Host.Core.Devices.Count(device => mounted.Host.Core.GetUse(device).ReleaseRequests > 0)) == Blocked, TimeSpan.FromSeconds(60));
            if (allWaiting)
            {
                listing = mounted.Bash("ls sys/class/mdev_bus");
            }
        }
        finally
        {
            foreach (var group in held)
            {
                group.Dispose();
            }
        }
        var removed = await Task.WhenAll(removes);

        Assert.Equal(Blocked, waiting);
        Assert.Equal(new CommandResult(0, "mdpy\nmtty\n", ""), listing);
        Assert.All(removed, result => Assert.Equal(new CommandResult(0, "", ""), result));
        Assert.Empty(mounted.Host.Core.Devices);
        Check(mounted);
    }
}
