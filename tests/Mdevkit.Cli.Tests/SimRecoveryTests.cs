using Mdevkit.Sysfs;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>After a simulator was killed: <c>sim down</c> cleans up what it left, whatever the root's name; and who may talk to a simulator.</summary>
public sealed class SimRecoveryTests : IDisposable
{
    private readonly TempRoot _scratch = new(nameof(SimRecoveryTests));

    public void Dispose()
    {
        foreach (var mount in MountTable.Read().Where(mount => mount.MountPoint.StartsWith(_scratch.Path + "/", StringComparison.Ordinal)))
        {
            CommandRunner.Run("umount", ["-l", mount.MountPoint]);
        }
        _scratch.Dispose();
    }

    [Theory]
    [InlineData("root", "root")]
    [InlineData("with space/root", "with space/root")]
    [InlineData("link", "target")]
    public void Down_AfterTheSimulatorWasKilled_DetachesItsMounts_AndSaysSo(string given, string real)
    {
        Directory.CreateDirectory(_scratch.Join(real));
        if (given != real)
        {
            File.CreateSymbolicLink(_scratch.Join(given), _scratch.Join(real));
        }
        var root = _scratch.Join(given);
        Assert.Equal(0, RunningSimulator.Run("sim", "up", "--daemon", "--profile", "samples", "--root", root).ExitCode);
        RunningSimulator.KillDaemon(root);

        var down = RunningSimulator.Run("sim", "down", "--root", root);
        var again = RunningSimulator.Run("sim", "down", "--root", root);

        // The FUSE mounts, then the bind mount that kept the simulator's network namespace.
        var mountPoints = $"{_scratch.Join(real)}/sys, {_scratch.Join(real)}/dev, {_scratch.Join(real)}/run/mdevkit/netns";
        Assert.Equal(new CommandResult(0, $"mdevkit sim: no simulator was running at {_scratch.Join(real)}; detached the mounts it left: {mountPoints}\n", ""), down);
        Assert.DoesNotContain(MountTable.Read(), mount => mount.MountPoint.StartsWith(_scratch.Join(real) + "/", StringComparison.Ordinal));
        Assert.False(File.Exists(_scratch.Join($"{real}/run/mdevkit/sim.sock")));
        Assert.Equal(new CommandResult(1, "", $"mdevkit: no simulator is running at {_scratch.Join(real)} (start one with 'mdevkit sim up --root {_scratch.Join(real)}')\n"), again);
    }

    [Fact]
    public void Status_FromAnotherUser_IsToldPermissionWasDenied()
    {
        var root = _scratch.Join("root");
        Assert.Equal(0, RunningSimulator.Run("sim", "up", "--daemon", "--profile", "samples", "--root", root).ExitCode);
        // The test's build output may sit under a directory only root can enter: give the other user a copy.
        var binaries = _scratch.Join("bin");
        CopyDirectory(AppContext.BaseDirectory, binaries);
        CommandRunner.Run("chmod", ["-R", "a+rX", _scratch.Path]);

        var status = CommandRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Path.Join(binaries, "mdevkit"), "sim", "status", "--root", root]);
        var down = RunningSimulator.Run("sim", "down", "--root", root);

        Assert.Equal(new CommandResult(1, "", $"mdevkit: permission denied: cannot reach the simulator at {root} through {root}/run/mdevkit/sim.sock; its control socket is root's (run as root)\n"), status);
        Assert.Equal(0, down.ExitCode);
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Join(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }
}
