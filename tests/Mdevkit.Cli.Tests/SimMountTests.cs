using System.Diagnostics;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary><c>mdevkit sim up|down|status|hotplug|reboot|exec</c> as real processes on a real FUSE mount.</summary>
public sealed class SimMountTests
{
    private const string Uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
    private const string MttyTypes = "sys/class/mdev_bus/mtty/mdev_supported_types";

    [Fact]
    public void Up_MakesACompleteRoot_AndDownUnmountsIt()
    {
        var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        var parents = Directory.GetFileSystemEntries(simulator.Join("sys/class/mdev_bus")).Select(Path.GetFileName);
        var realDirectories = new[] { "etc/mdevctl.d/scripts.d/callouts", "usr/lib/mdevctl/scripts.d/notifiers" }.Select(path => Directory.Exists(simulator.Join(path)));

        var down = simulator.Control("down");

        Assert.Equal(["mbochs", "mdpy", "mtty"], parents);
        Assert.Equal([true, true], realDirectories);
        Assert.Equal(new CommandResult(0, "", ""), down);
        Assert.False(simulator.IsMounted);
        simulator.Dispose();
    }

    [Fact]
    public void StatusHotplugAndReboot_ChangeTheMountedHost()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        File.WriteAllText(simulator.Join($"{MttyTypes}/mtty-1/create"), Uuid);

        var status = simulator.Control("status");
        var unplug = simulator.Control("hotplug", "remove", "mtty");
        var afterUnplug = Directory.Exists(simulator.Join("sys/class/mdev_bus/mtty"));
        var plug = simulator.Control("hotplug", "add", "mtty");
        File.WriteAllText(simulator.Join($"{MttyTypes}/mtty-1/create"), Uuid);
        var reboot = simulator.Control("reboot");
        var unknown = simulator.Control("hotplug", "add", "nosuchparent");

        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"device {Uuid} mtty mtty-1 idle\n", status.Output, StringComparison.Ordinal);
        Assert.Equal((0, false, 0), (unplug.ExitCode, afterUnplug, plug.ExitCode));
        Assert.Equal(0, reboot.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")));
        Assert.Equal(new CommandResult(1, "", "mdevkit: no parent device 'nosuchparent' in this host\n"), unknown);
    }

    [Fact]
    public void Status_ShowsWhoHoldsADevice()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        File.WriteAllText(simulator.Join($"{MttyTypes}/mtty-2/create"), Uuid);
        var group = new FileInfo(simulator.Join($"sys/bus/mdev/devices/{Uuid}/iommu_group")).LinkTarget!.Split('/')[^1];

        string whileHeld;
        using (var node = new FileStream(simulator.Join($"dev/vfio/{group}"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0))
        {
            node.WriteByte(0);
            whileHeld = simulator.Control("status").Output;
        }

        Assert.Contains($"device {Uuid} mtty mtty-2 running {Environment.ProcessId}\n", whileHeld, StringComparison.Ordinal);
    }

    [Fact]
    public void Up_OnAMountedOrNonEmptyRoot_Refuses()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        using var nonEmpty = new TempRoot(nameof(SimMountTests));
        nonEmpty.File("sys/something", "");

        var again = RunningSimulator.Run("sim", "up", "--daemon", "--root", simulator.Root);
        var occupied = RunningSimulator.Run("sim", "up", "--root", nonEmpty.Path);

        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith($"mdevkit: {simulator.Join("sys")} is already mounted: is a simulator running?", again.Error, StringComparison.Ordinal);
        Assert.Equal(new CommandResult(1, "", $"mdevkit: {nonEmpty.Join("sys")} is not empty; give an empty directory with --root\n"), occupied);
        Assert.Equal(0, simulator.Control("status").ExitCode);
    }

    [Fact]
    public void KilledDaemon_LeavesAStaleMount_ThatTheNextUpRecovers()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        simulator.Kill();
        var stale = Record.Exception(() => Directory.GetFileSystemEntries(simulator.Join("sys")));

        var up = RunningSimulator.Run("sim", "up", "--daemon", "--profile", "samples", "--root", simulator.Root);

        Assert.IsAssignableFrom<IOException>(stale);
        Assert.Equal(0, up.ExitCode);
        Assert.True(Directory.Exists(simulator.Join("sys/class/mdev_bus/mtty")));
    }

    [Fact]
    public void Commands_OnAKilledSimulatorsRoot_SayItIsGoneAndHowToRecover()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        simulator.Kill();

        var results = new[] { "list", "types", "probe" }.Select(command => RunningSimulator.Run(command == "probe" ? [command, "mtty", "--yes", "--root", simulator.Root] : [command, "--root", simulator.Root])).ToArray();
        // A simulator again on the dead mount, so that the root can be taken down as usual.
        var up = RunningSimulator.Run("sim", "up", "--daemon", "--profile", "samples", "--root", simulator.Root);

        var gone = $"Error: the simulator serving {simulator.Root} is gone and left its mounts behind ({simulator.Join("sys")}: Transport endpoint is not connected (os error 107)): 'mdevkit sim down --root {simulator.Root}' detaches them, 'mdevkit sim up --root {simulator.Root}' starts a new one\n";
        Assert.All(results, result => Assert.Equal(new CommandResult(1, "", gone), result));
        Assert.Equal(0, up.ExitCode);
    }

    [Fact]
    public void Foreground_UnmountsOnSigterm()
    {
        using var root = new TempRoot(nameof(SimMountTests));
        var start = new ProcessStartInfo(RunningSimulator.Mdevkit, ["sim", "up", "--profile", "samples", "--root", root.Path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var simulator = Process.Start(start)!;
        var banner = simulator.StandardOutput.ReadLine();
        var mountedBefore = Directory.Exists(root.Join("sys/class/mdev_bus/mtty"));

        CommandRunner.Run("kill", ["-TERM", simulator.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        simulator.WaitForExit();

        Assert.StartsWith($"mdevkit sim: host 'samples' mounted at {root.Join("sys")}", banner, StringComparison.Ordinal);
        Assert.True(mountedBefore);
        Assert.Equal(0, simulator.ExitCode);
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), line => line.Contains(root.Path, StringComparison.Ordinal));
    }

    [Fact]
    public void Exec_SeesTheSimulatorAsSys_WhileTheMachineKeepsItsOwn()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        File.WriteAllText(simulator.Join("etc/mdevctl.d/marker"), "");

        var inside = simulator.ExecBash($"ls /sys/class/mdev_bus /etc/mdevctl.d && echo {Uuid} > /sys/class/mdev_bus/mdpy/mdev_supported_types/mdpy-vga/create");

        Assert.Equal(new CommandResult(0, "/etc/mdevctl.d:\nmarker\nscripts.d\n\n/sys/class/mdev_bus:\nmbochs\nmdpy\nmtty\n", ""), inside);
        Assert.False(Directory.Exists("/sys/class/mdev_bus/mdpy"));
        Assert.False(File.Exists("/etc/mdevctl.d/marker"));
        Assert.True(Directory.Exists(simulator.Join($"sys/bus/mdev/devices/{Uuid}")));
    }

    [Fact]
    public void Exec_ReturnsTheCommandsExitCode_AndExplainsAMissingCommand()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));

        var failing = simulator.ExecBash("exit 7");
        var missing = simulator.Exec("no-such-command");

        Assert.Equal(7, failing.ExitCode);
        Assert.Equal(new CommandResult(1, "", "mdevkit: cannot run no-such-command: No such file or directory\n"), missing);
    }

    [Fact]
    public void HotplugOfAParentWithAutoDefinitions_StartsThem()
    {
        using var simulator = new RunningSimulator("samples", nameof(SimMountTests));
        var define = RunningSimulator.Run("define", "--root", simulator.Root, "-u", Uuid, "-p", "mtty", "-t", "mtty-2", "--auto");

        simulator.Control("hotplug", "remove", "mtty");
        simulator.Control("hotplug", "add", "mtty");

        Assert.Equal(0, define.ExitCode);
        Assert.True(SpinWait.SpinUntil(() => Directory.Exists(simulator.Join($"sys/bus/mdev/devices/{Uuid}")), TimeSpan.FromSeconds(30)), File.ReadAllText(simulator.Join("run/mdevkit/sim.log")));
    }
}
