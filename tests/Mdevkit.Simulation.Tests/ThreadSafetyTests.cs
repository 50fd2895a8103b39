using System.Globalization;
using System.Runtime.CompilerServices;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>The simulator's own thread safety: what readers, listeners and racing writers see while the host changes.</summary>
public sealed class ThreadSafetyTests
{
    private const int Threads = 8;

    [Fact]
    public void Uevents_FromManyThreads_ReachAListenerOneAtATimeInSeqnumOrderWithNoneMissing()
    {
        var host = HostFiles.Boot("samples");
        var seqnums = new List<long>();
        var inside = 0;
        var overlapped = false;
        host.UeventRaised += uevent =>
        {
            overlapped |= Interlocked.Increment(ref inside) > 1;
            lock (seqnums)
            {
                seqnums.Add(long.Parse(uevent["SEQNUM"]!, CultureInfo.InvariantCulture));
            }
            // Gives a second delivery the time to arrive while this one is still running.
            Thread.SpinWait(200);
            Interlocked.Decrement(ref inside);
        };

        Race(i =>
        {
            for (var round = 0; round < 40; round++)
            {
                var uuid = Guid.NewGuid();
                Assert.Equal((Errno.None, Errno.None), (host.Create("mtty", "mtty-1", uuid), host.Remove(uuid)));
            }
        });

        Assert.False(overlapped, "two listener calls overlapped");
        Assert.Equal(Enumerable.Range(0, seqnums.Count).Select(offset => seqnums[0] + offset), seqnums);
        // add and bind, unbind and remove: four for each cycle.
        Assert.Equal(Threads * 40 * 4, seqnums.Count);
    }

    [Fact]
    public void EnsureDirectory_RacingForOnePath_GivesEveryoneTheSameDirectory()
    {
        for (var round = 0; round < 200; round++)
        {
            var tree = new SysfsTree();
            var made = new SysfsDirectory[Threads];

            Race(i => made[i] = tree.EnsureDirectory("sys/kernel/iommu_groups/7/devices"));

            Assert.Single(made.Distinct());
        }
    }

    [Fact]
    public void ParentDevices_ReadWhileDevicesComeAndGo_IsAlwaysAWholeSnapshot()
    {
        var host = HostFiles.Boot("samples");
        Assert.True(host.Core.TryGetParent("mtty", out var mtty));
        var writersDone = 0;

        Race(i =>
        {
            if (i == 0)
            {
                while (Volatile.Read(ref writersDone) < Threads - 1)
                {
                    var devices = mtty.Devices;
                    Assert.DoesNotContain(null, devices);
                    Assert.Equal(devices.Count, devices.Distinct().Count());
                }
                return;
            }
            for (var round = 0; round < 200; round++)
            {
                var uuid = Guid.NewGuid();
                if (host.Create("mtty", "mtty-1", uuid) == Errno.None)
                {
                    Assert.Equal(Errno.None, host.Remove(uuid));
                }
            }
            Interlocked.Increment(ref writersDone);
        });
    }

    [Fact]
    public void RemovingAnIdleDevice_AsAnotherProcessOpensIt_RefusesTheOpenOrAsksTheHolderFirst()
    {
        var host = HostFiles.Boot("samples");
        var holder = new Caller(4242, 0, 0);
        for (var round = 0; round < 300; round++)
        {
            var uuid = Guid.NewGuid();
            Assert.Equal(Errno.None, host.Create("mtty", "mtty-1", uuid));
            Assert.True(host.Core.TryGetDevice(uuid, out var device));
            var group = $"{SysfsPaths.VfioGroups}/{device.IommuGroup}";
            var heldWithoutRequest = false;
            var removed = Errno.EIO;

            Race(i =>
            {
                if (i == 1)
                {
                    removed = host.Remove(uuid);
                    return;
                }
                if (i == 0 && host.Tree.Open(group, FileAccess.ReadWrite, holder, out var file) == Errno.None)
                {
                    // The holder lets go once asked, as a VMM does; a device removed before that was lost to it.
                    Assert.True(SpinWait.SpinUntil(() => device.IsRemoved || host.Core.GetUse(device).ReleaseRequests > 0, TimeSpan.FromSeconds(30)));
                    heldWithoutRequest = host.Core.GetUse(device).ReleaseRequests == 0;
                    file!.Release();
                }
            }, count: 2);

            Assert.False(heldWithoutRequest, $"round {round}: the device was removed from under its holder without a release request");
            Assert.Equal(Errno.None, removed);
        }
    }

    [Fact]
    public void CreateRemoveCycles_LeaveNothingBehind()
    {
        var host = HostFiles.Boot("samples");
        // The first device makes what stays for all (sys/kernel/iommu_groups on a host without physical groups).
        CycleAndForget(host, 1);
        var nodes = CountNodes(host.Tree.Root);

        var device = CycleAndForget(host, 2000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(nodes, CountNodes(host.Tree.Root));
        Assert.Empty(host.Core.Devices);
        Assert.All(host.Core.Parents, parent => Assert.Empty(parent.Devices));
        Assert.False(device.IsAlive, "a removed device is still reachable");
    }

    // The last device made, by a weak reference: nothing of the host may keep it alive once it is removed.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CycleAndForget(SimulatedHost host, int cycles)
    {
        MdevDevice? last = null;
        for (var cycle = 0; cycle < cycles; cycle++)
        {
            var uuid = Guid.NewGuid();
            Assert.Equal(Errno.None, host.Create("mtty", cycle % 2 == 0 ? "mtty-1" : "mtty-2", uuid));
            Assert.True(host.Core.TryGetDevice(uuid, out last));
            Assert.Equal("idle\n", host.Read($"{HostFiles.DevicePath(uuid)}/vendor/state"));
            Assert.Equal(Errno.None, host.Remove(uuid));
        }
        return new WeakReference(last);
    }

    private static int CountNodes(SysfsNode node) =>
        1 + (node is SysfsDirectory directory ? directory.Children.Values.Sum(CountNodes) : 0);

    [Fact]
    public void SiblingVfs_RacingForTheGpu_GetExactlyWhatFits()
    {
        var host = HostFiles.Boot("nvidia-mixed");
        host.EnableVfs(Threads);
        var ampere = new Errno[Threads];
        var vendorVfio = new Errno[Threads];

        // Two 24 GB vGPUs fit on a 48 GB GPU: on the A40's VFs through mdev, on the L40S's through current_vgpu_type.
        Race(i =>
        {
            ampere[i] = host.Create($"0000:41:0{(4 + i) / 8}.{(4 + i) % 8}", "nvidia-565", Guid.NewGuid());
            vendorVfio[i] = host.Write($"sys/bus/pci/devices/0000:81:0{(4 + i) / 8}.{(4 + i) % 8}/nvidia/current_vgpu_type", "1155");
        });

        Assert.Equal((2, Threads - 2), (ampere.Count(result => result == Errno.None), ampere.Count(result => result == Errno.EINVAL)));
        Assert.Equal((2, Threads - 2), (vendorVfio.Count(result => result == Errno.None), vendorVfio.Count(result => result == Errno.ENOSPC)));
    }

    private static void Race(Action<int> action, int count = Threads)
    {
        using var start = new Barrier(count);
        var racers = Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            action(i);
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Task.WaitAll(racers, TestContext.Current.CancellationToken);
    }
}
