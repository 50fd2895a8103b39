using System.Net.Sockets;
using Mdevkit.Sysfs;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>The simulator's control socket and files against careless or hostile neighbours.</summary>
public sealed class SimControlTests : IDisposable
{
    private readonly TempRoot _scratch = new(nameof(SimControlTests));

    public void Dispose()
    {
        RunningSimulator.Run("sim", "down", "--root", _scratch.Join("root"));
        foreach (var mount in MountTable.Read().Where(mount => mount.MountPoint.StartsWith(_scratch.Path + "/", StringComparison.Ordinal)))
        {
            CommandRunner.Run("umount", ["-l", mount.MountPoint]);
        }
        _scratch.Dispose();
    }

    [Fact]
    public void ClientsThatHangUpEarlyOrSayNothing_DoNotBlockOthers()
    {
        var root = _scratch.Join("root");
        Assert.Equal(0, RunningSimulator.Run("sim", "up", "--daemon", "--profile", "samples", "--root", root).ExitCode);
        var socket = Path.Join(root, "run/mdevkit/sim.sock");
        using (var hangsUp = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            hangsUp.Connect(new UnixDomainSocketEndPoint(socket));
        }
        using var silent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        silent.Connect(new UnixDomainSocketEndPoint(socket));

        var status = CommandRunner.Run(RunningSimulator.Mdevkit, ["sim", "status", "--root", root], timeout: TimeSpan.FromSeconds(30));
        var hotplug = CommandRunner.Run(RunningSimulator.Mdevkit, ["sim", "hotplug", "remove", "mtty", "--root", root], timeout: TimeSpan.FromSeconds(30));

        Assert.Equal((0, ""), (status.ExitCode, status.Error));
        Assert.Equal(new CommandResult(0, "", ""), hotplug);
    }

    [Fact]
    public void FilesTheSimulatorMakes_HaveItsModes_WhateverTheUmask()
    {
        var root = _scratch.Join("root");

        var up = CommandRunner.Run("bash", ["-c", "umask 000; exec \"$0\" sim up --daemon --profile samples --root \"$1\"", RunningSimulator.Mdevkit, root]);

        Assert.Equal(0, up.ExitCode);
        const UnixFileMode shared = (UnixFileMode)0b111_101_101;
        Assert.Equal(
            [shared, shared, shared, shared, shared, shared, shared, (UnixFileMode)0b110_000_000, (UnixFileMode)0b110_100_100],
            new[]
            {
                "", "etc/mdevctl.d", "etc/mdevctl.d/scripts.d/callouts", "etc/mdevctl.d/scripts.d/notifiers",
                "usr/lib/mdevctl/scripts.d/callouts", "usr/lib/mdevctl/scripts.d/notifiers", "run/mdevkit",
                "run/mdevkit/sim.sock", "run/mdevkit/sim.log",
            }.Select(path => File.GetUnixFileMode(Path.Join(root, path))));
    }

    [Fact]
    public void DaemonLog_IsRotated_AndStaysBounded()
    {
        var root = _scratch.Join("root");
        Assert.Equal(0, RunningSimulator.Run("sim", "up", "--daemon", "--profile", "samples", "--root", root).ExitCode);
        const string Uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002";

        // Each create and remove logs its uevents: enough cycles to fill the log past its cap twice.
        for (var i = 0; i < 3000; i++)
        {
            File.WriteAllText(Path.Join(root, "sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create"), Uuid);
            File.WriteAllText(Path.Join(root, $"sys/bus/mdev/devices/{Uuid}/remove"), "1");
        }
        var status = RunningSimulator.Run("sim", "status", "--root", root);

        Assert.Equal(0, status.ExitCode);
        Assert.InRange(new FileInfo(Path.Join(root, "run/mdevkit/sim.log")).Length, 1, SimHost.RotatingLog.Cap);
        // The old file stopped short of the cap by at most one batch of lines (a batch ends at a line past EagerBytes).
        Assert.InRange(new FileInfo(Path.Join(root, "run/mdevkit/sim.log.1")).Length, SimHost.RotatingLog.Cap - SimHost.RotatingLog.EagerBytes - 4096, SimHost.RotatingLog.Cap);
    }
}
