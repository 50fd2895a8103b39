using System.Text;
using Microsoft.Extensions.Time.Testing;
using Mdevkit.Simulation.Profiles;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>Opening, accessing and releasing devices through their VFIO group nodes; peer links; remove while open.</summary>
public sealed class DeviceLifecycleTests
{
    private static readonly Guid s_gpu0 = Guid.Parse("a1111111-0000-0000-0000-000000000000");
    private static readonly Guid s_gpu1 = Guid.Parse("a2222222-0000-0000-0000-000000000000");
    private static readonly Guid s_gpu2 = Guid.Parse("a3333333-0000-0000-0000-000000000000");
    private static readonly Guid s_sameGpu = Guid.Parse("a4444444-0000-0000-0000-000000000000");
    private static readonly Caller s_vm1 = new(1001, 0, 0);
    private static readonly Caller s_vm2 = new(1002, 0, 0);

    // Three M60 GPUs with two peer links each, and devices of the 8-per-GPU nvidia-12 on each.
    private static SimulatedHost Boot(string lifecycle = "\"peerLinks\": 2", string kernel = "", TimeProvider? time = null)
    {
        var json = $$"""{ "name": "p2p", {{kernel}} "parents": [ { "driver": "nvidia", "address": "0000:3e:00.0", "repeat": 3, {{lifecycle}} } ] }""";
        var host = SimulatedHost.Boot(HostProfile.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)), "test"), time);
        Assert.Equal(Errno.None, host.Create("0000:3e:00.0", "nvidia-12", s_gpu0));
        Assert.Equal(Errno.None, host.Create("0000:3f:00.0", "nvidia-12", s_gpu1));
        Assert.Equal(Errno.None, host.Create("0000:40:00.0", "nvidia-12", s_gpu2));
        Assert.Equal(Errno.None, host.Create("0000:3e:00.0", "nvidia-12", s_sameGpu));
        return host;
    }

    private static MdevDevice Device(SimulatedHost host, Guid uuid) => host.Core.TryGetDevice(uuid, out var device) ? device : throw new InvalidOperationException("no device");

    private static Errno Open(SimulatedHost host, Guid uuid, Caller caller, out TreeFile? file) =>
        host.Tree.Open($"{SysfsPaths.VfioGroups}/{Device(host, uuid).IommuGroup}", FileAccess.ReadWrite, caller, out file);

    private static TreeFile Opened(SimulatedHost host, Guid uuid, Caller caller)
    {
        Assert.Equal(Errno.None, Open(host, uuid, caller, out var file));
        return file!;
    }

    private static string Vendor(SimulatedHost host, Guid uuid, string attribute) => host.Read($"{SysfsPaths.MdevBusDevices}/{MdevUuid.Format(uuid)}/vendor/{attribute}");

    [Fact]
    public void EveryDevice_HasAGroupNodeAndIdleUseAttributes()
    {
        var host = Boot();
        var device = Device(host, s_gpu0);

        Assert.True(host.Tree.TryLookup($"dev/vfio/{device.IommuGroup}", out var node));
        Assert.Equal((DeviceNode.RootOnly, "idle\n", "none\n", "", "0\n"),
            (node.Mode, Vendor(host, s_gpu0, "state"), Vendor(host, s_gpu0, "holder"), Vendor(host, s_gpu0, "peer_links"), Vendor(host, s_gpu0, "release_requests")));
    }

    [Fact]
    public void Open_BindsTheDeviceToOneProcess_UntilTheLastClose()
    {
        var host = Boot();
        var file = Opened(host, s_gpu0, s_vm1);

        var second = Open(host, s_gpu0, s_vm2, out _);
        var again = Open(host, s_gpu0, s_vm1, out _);
        var whileOpen = (Vendor(host, s_gpu0, "state"), Vendor(host, s_gpu0, "holder"));
        file.Release();

        Assert.Equal((Errno.EBUSY, Errno.EBUSY), (second, again));
        Assert.Equal(("open\n", "1001\n"), whileOpen);
        Assert.Equal(("idle\n", "none\n"), (Vendor(host, s_gpu0, "state"), Vendor(host, s_gpu0, "holder")));
        Assert.Equal(Errno.None, Open(host, s_gpu0, s_vm2, out _));
    }

    [Fact]
    public void FirstAccess_LinksEveryDeviceTheProcessHoldsOnOtherGpus_AndTheLastCloseFreesThem()
    {
        var host = Boot();
        var gpu0 = Opened(host, s_gpu0, s_vm1);
        var gpu1 = Opened(host, s_gpu1, s_vm1);
        var sameGpu = Opened(host, s_sameGpu, s_vm1);
        var other = Opened(host, s_gpu2, s_vm2);

        Assert.Equal(1, gpu0.Write([0]));

        Assert.Equal(("running\n", "open\n"), (Vendor(host, s_gpu0, "state"), Vendor(host, s_gpu1, "state")));
        Assert.Equal($"{s_gpu1}\n", Vendor(host, s_gpu0, "peer_links"));
        Assert.Equal($"{s_gpu0}\n", Vendor(host, s_gpu1, "peer_links"));
        Assert.Equal(("", ""), (Vendor(host, s_sameGpu, "peer_links"), Vendor(host, s_gpu2, "peer_links")));
        Assert.Equal([1, 1, 2], host.Core.Parents.Select(parent => host.Core.GetFreePeerLinks(parent)!.Value));

        gpu1.Release();

        Assert.Equal(("", ""), (Vendor(host, s_gpu0, "peer_links"), Vendor(host, s_gpu1, "peer_links")));
        Assert.Equal([2, 2, 2], host.Core.Parents.Select(parent => host.Core.GetFreePeerLinks(parent)!.Value));
        gpu0.Release();
        sameGpu.Release();
        other.Release();
    }

    [Fact]
    public void Access_WithTooFewPeerLinks_FailsWithENOSPC_AndAllocatesNothing()
    {
        var host = Boot("\"peerLinks\": 1");
        var gpu1 = Opened(host, s_gpu1, s_vm2);
        var gpu2 = Opened(host, s_gpu2, s_vm2);
        Assert.Equal(1, gpu1.Write([0]));
        var linkedFree = host.Core.Parents.Select(parent => host.Core.GetFreePeerLinks(parent)!.Value).ToArray();
        gpu2.Release();
        // vm1's first two devices share GPU 0 and need no link; a third on GPU 2 needs two links at each end.
        var gpu0 = Opened(host, s_gpu0, s_vm1);
        var sameGpu = Opened(host, s_sameGpu, s_vm1);
        Assert.Equal(1, gpu0.Write([0]));
        var third = Opened(host, s_gpu2, s_vm1);

        var access = third.Write([0]);

        Assert.Equal([1, 0, 0], linkedFree);
        Assert.Equal(-(int)Errno.ENOSPC, access);
        Assert.Equal(("open\n", ""), (Vendor(host, s_gpu2, "state"), Vendor(host, s_gpu2, "peer_links")));
        Assert.Equal([1, 1, 1], host.Core.Parents.Select(parent => host.Core.GetFreePeerLinks(parent)!.Value));
        foreach (var file in new[] { gpu1, gpu0, sameGpu, third })
        {
            file.Release();
        }
    }

    [Fact]
    public void WithoutHotplug_AProcessRunningDevices_CannotOpenAnother_UntilItReleasesThem()
    {
        var host = Boot("\"peerLinks\": 2, \"hotplug\": false");
        var gpu0 = Opened(host, s_gpu0, s_vm1);
        var beforeRunning = Open(host, s_gpu1, s_vm1, out var gpu1);
        Assert.Equal(1, gpu0.Write([0]));

        var whileRunning = Open(host, s_gpu2, s_vm1, out _);
        var otherProcess = Open(host, s_gpu2, s_vm2, out var gpu2);
        gpu0.Release();
        gpu1!.Release();
        gpu2!.Release();

        Assert.Equal((Errno.None, Errno.EBUSY, Errno.None), (beforeRunning, whileRunning, otherProcess));
        Assert.Equal(Errno.None, Open(host, s_gpu2, s_vm1, out _));
    }

    [Fact]
    public async Task Remove_WhileOpen_AsksTheHolderAndWaitsForTheRelease()
    {
        var host = Boot();
        var file = Opened(host, s_gpu0, s_vm1);
        var requests = new List<Uevent>();
        host.UeventRaised += uevent => { lock (requests) { if (uevent["MDEV_LIFECYCLE"] == "release-requested") { requests.Add(uevent); } } };

        var remove = Task.Run(() => host.Remove(s_gpu0));
        Assert.True(SpinWait.SpinUntil(() => Vendor(host, s_gpu0, "release_requests") == "1\n", TimeSpan.FromSeconds(10)));
        var reopen = Open(host, s_gpu0, s_vm2, out _);
        var stillThere = !remove.IsCompleted && host.Core.TryGetDevice(s_gpu0, out _);
        var status = new byte[64];
        var shown = Encoding.ASCII.GetString(status, 0, file.Read(0, status));
        file.Release();

        Assert.Equal(Errno.None, await remove);
        Assert.Equal((Errno.ENODEV, true), (reopen, stillThere));
        Assert.Equal("state running\nrelease_requests 1\n", shown);
        Assert.Equal("1001", Assert.Single(requests)["HOLDER_PID"]);
        Assert.False(host.Core.TryGetDevice(s_gpu0, out _));
    }

    [Fact]
    public async Task Remove_WhileOpen_AsksAgainEachTimeTheIntervalPasses()
    {
        var time = new FakeTimeProvider();
        var host = Boot(time: time);
        var file = Opened(host, s_gpu0, s_vm1);
        var remove = Task.Run(() => host.Remove(s_gpu0), TestContext.Current.CancellationToken);
        bool Asked(int times) => SpinWait.SpinUntil(() => Vendor(host, s_gpu0, "release_requests") == $"{times}\n", TimeSpan.FromSeconds(30));

        var first = Asked(1);
        time.Advance(MdevCore.ReleaseRequestInterval);
        var second = Asked(2);
        time.Advance(MdevCore.ReleaseRequestInterval);
        var third = Asked(3);
        file.Release();

        Assert.Equal(Errno.None, await remove);
        Assert.Equal((true, true, true), (first, second, third));
    }

    [Fact]
    public void Remove_WhileOpen_OnAnOlderKernel_IsEBUSY()
    {
        var host = Boot(kernel: "\"removeWhileOpen\": \"busy\",");
        var file = Opened(host, s_gpu0, s_vm1);

        var busy = host.Remove(s_gpu0);
        file.Release();

        Assert.Equal((Errno.EBUSY, Errno.None), (busy, host.Remove(s_gpu0)));
    }

    [Fact]
    public void Unplug_TakesAnOpenDeviceAwayFromItsHolder()
    {
        var host = Boot();
        var gpu0 = Opened(host, s_gpu0, s_vm1);
        var gpu1 = Opened(host, s_gpu1, s_vm1);
        Assert.Equal(1, gpu0.Write([0]));

        Assert.Equal(Errno.None, host.Unplug("0000:3e:00.0"));

        Assert.Equal(-(int)Errno.ENODEV, gpu0.Write([0]));
        Assert.Equal("", Vendor(host, s_gpu1, "peer_links"));
        Assert.Equal(2, host.Core.GetFreePeerLinks(host.Core.Parents.Single(parent => parent.Name == "0000:3f:00.0")));
        gpu0.Release();
        gpu1.Release();
    }

    [Fact]
    public void EveryTransition_RaisesAChangeUevent()
    {
        var host = Boot();
        var seen = new List<string>();
        host.UeventRaised += uevent => seen.Add($"{uevent["MDEV_LIFECYCLE"]} {uevent["HOLDER_PID"]}");

        var file = Opened(host, s_gpu0, s_vm1);
        file.Write([0]);
        file.Write([0]);
        file.Release();

        Assert.Equal(["open 1001", "running 1001", "released none"], seen);
    }

    [Fact]
    public void Profile_RejectsNegativePeerLinks()
    {
        var error = Assert.Throws<ProfileException>(() => Boot("\"peerLinks\": -1"));

        Assert.Equal("test: parents[0] (nvidia): 'peerLinks' must not be negative, not -1", error.Message);
    }
}
