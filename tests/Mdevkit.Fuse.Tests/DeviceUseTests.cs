using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>
/// Processes using devices through the mounted VFIO group nodes (<c>dev/vfio/N</c>): holding, first
/// access, peer links, release on exit, and a remove that waits for the holder.
/// </summary>
public sealed class DeviceUseTests : IDisposable
{
    private const string Gpu0 = "a1111111-0000-0000-0000-000000000000";
    private const string Gpu1 = "a2222222-0000-0000-0000-000000000000";
    private const string Gpu2 = "a3333333-0000-0000-0000-000000000000";
    private readonly TempRoot _profiles = new(nameof(DeviceUseTests));

    public void Dispose() => _profiles.Dispose();

    // Three M60 GPUs with two peer links each, one nvidia-12 device on each.
    private MountedHost Boot(string lifecycle)
    {
        _profiles.File("p2p.json", $$"""{ "name": "p2p", "parents": [ { "driver": "nvidia", "address": "0000:3e:00.0", "repeat": 3, {{lifecycle}} } ] }""");
        var mounted = new MountedHost(_profiles.Join("p2p.json"), nameof(DeviceUseTests));
        var create = mounted.Bash($"""
            echo {Gpu0} > sys/class/mdev_bus/0000:3e:00.0/mdev_supported_types/nvidia-12/create &&
            echo {Gpu1} > sys/class/mdev_bus/0000:3f:00.0/mdev_supported_types/nvidia-12/create &&
            echo {Gpu2} > sys/class/mdev_bus/0000:40:00.0/mdev_supported_types/nvidia-12/create
            """);
        Assert.Equal(new CommandResult(0, "", ""), create);
        return mounted;
    }

    private static string Group(string uuid) => $"$(basename $(readlink sys/bus/mdev/devices/{uuid}/iommu_group))";

    private static string Use(MountedHost mounted, string uuid) =>
        string.Join(' ', new[] { "state", "holder", "peer_links" }.Select(name => File.ReadAllText(mounted.Join($"sys/bus/mdev/devices/{uuid}/vendor/{name}")).Trim().ReplaceLineEndings(",")));

    private static void WaitUntilIdle(MountedHost mounted, string uuid) =>
        Assert.True(SpinWait.SpinUntil(() => Use(mounted, uuid).StartsWith("idle", StringComparison.Ordinal), TimeSpan.FromSeconds(10)), Use(mounted, uuid));

    [Fact]
    public async Task AProcessHoldingTwoDevices_LinksThemOnFirstAccess_OthersAreBusy_AndExitReleasesAll()
    {
        using var mounted = Boot("\"peerLinks\": 2");

        // The holder opens two groups, touches one, says who it is, and waits for a line on a fifo.
        var fifo = mounted.Join("hold");
        CommandRunner.Run("mkfifo", [fifo]);
        var holder = mounted.BashInBackground($"exec 3<>dev/vfio/{Group(Gpu0)} 4<>dev/vfio/{Group(Gpu1)}; echo touch >&3; echo $$ > ready; read -r _ < hold");
        Assert.True(SpinWait.SpinUntil(() => File.Exists(mounted.Join("ready")) && File.ReadAllText(mounted.Join("ready")).EndsWith('\n'), TimeSpan.FromSeconds(10)));
        var pid = File.ReadAllText(mounted.Join("ready")).Trim();
        var whileHeld = (Use(mounted, Gpu0), Use(mounted, Gpu1), Use(mounted, Gpu2));
        var intruder = mounted.Bash($"exec 3<>dev/vfio/{Group(Gpu0)}");

        File.WriteAllText(fifo, "go\n");
        Assert.Equal(0, (await holder).ExitCode);
        WaitUntilIdle(mounted, Gpu0);
        WaitUntilIdle(mounted, Gpu1);

        Assert.Equal(($"running {pid} {Gpu1}", $"open {pid} {Gpu0}", "idle none "), whileHeld);
        Assert.Equal(1, intruder.ExitCode);
        Assert.EndsWith("Device or resource busy\n", intruder.Error, StringComparison.Ordinal);
        Assert.Equal(("idle none ", "idle none "), (Use(mounted, Gpu0), Use(mounted, Gpu1)));
    }

    [Fact]
    public void ThreadsOfOneProcess_AreOneHolder()
    {
        using var mounted = Boot("\"peerLinks\": 2");
        FileStream OpenGroup(string uuid) => new(mounted.Join($"dev/vfio/{new FileInfo(mounted.Join($"sys/bus/mdev/devices/{uuid}/iommu_group")).LinkTarget!.Split('/')[^1]}"),
            FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        FileStream? gpu0 = null, gpu1 = null;

        // Each group opened and touched on a thread of its own, as a VMM's threads do.
        var first = new Thread(() => gpu0 = OpenGroup(Gpu0));
        var second = new Thread(() => { gpu1 = OpenGroup(Gpu1); gpu1.WriteByte(0); });
        first.Start();
        first.Join();
        second.Start();
        second.Join();
        var whileHeld = (Use(mounted, Gpu0), Use(mounted, Gpu1));
        gpu0!.Dispose();
        gpu1!.Dispose();

        Assert.Equal(($"open {Environment.ProcessId} {Gpu1}", $"running {Environment.ProcessId} {Gpu0}"), whileHeld);
    }

    [Fact]
    public void WithoutHotplug_ARunningProcessCannotOpenOneMore()
    {
        using var mounted = Boot("\"peerLinks\": 2, \"hotplug\": false");

        var result = mounted.Bash($"exec 3<>dev/vfio/{Group(Gpu0)}; echo touch >&3 && exec 4<>dev/vfio/{Group(Gpu1)}");

        Assert.Equal(1, result.ExitCode);
        Assert.EndsWith("Device or resource busy\n", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveOfAnOpenDevice_WaitsUntilTheHolderHeedsTheRequestAndCloses()
    {
        using var mounted = Boot("\"peerLinks\": 2");

        // The holder watches for the release request, as a VMM does on VFIO's request notification, then lets go.
        var holder = mounted.BashInBackground($"""
            exec 3<>dev/vfio/{Group(Gpu0)}; echo touch >&3; touch ready
            until [ "$(cat sys/bus/mdev/devices/{Gpu0}/vendor/release_requests)" = 1 ]; do sleep 0.05; done
            echo released
            """);
        Assert.True(SpinWait.SpinUntil(() => File.Exists(mounted.Join("ready")), TimeSpan.FromSeconds(10)));

        var remove = mounted.Bash($"echo 1 > sys/bus/mdev/devices/{Gpu0}/remove && ls sys/bus/mdev/devices");

        Assert.Equal(new CommandResult(0, "released\n", ""), await holder);
        Assert.Equal(new CommandResult(0, $"{Gpu1}\n{Gpu2}\n", ""), remove);
    }

    [Fact]
    public void ReadingTheGroupNode_ShowsTheStateItsHolderPollsFor()
    {
        using var mounted = Boot("\"peerLinks\": 2");

        var result = mounted.Bash($"exec 3<dev/vfio/{Group(Gpu2)}; cat <&3");

        Assert.Equal(new CommandResult(0, "state running\nrelease_requests 0\n", ""), result);
    }
}
