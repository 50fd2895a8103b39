using Mdevkit.Sysfs;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// A simulator started as users start it (<c>mdevkit sim up --daemon</c>), in a fresh root; stopped with
/// <c>sim down</c>, and the mount detached even if a test left it broken.
/// </summary>
internal sealed class RunningSimulator : IDisposable
{
    public static readonly string Mdevkit = Path.Join(AppContext.BaseDirectory, "mdevkit");
    private readonly TempRoot _root;

    public RunningSimulator(string profile, string owner)
    {
        _root = new TempRoot(owner);
        var up = Run("sim", "up", "--daemon", "--profile", profile, "--root", Root);
        if (up.ExitCode != 0)
        {
            throw new InvalidOperationException($"sim up failed: {up.Error}");
        }
    }

    public string Root => _root.Path;

    public string Join(string relative) => _root.Join(relative);

    public bool IsMounted => MountTable.IsMountPoint(Join("sys"));

    /// <summary>Runs <c>mdevkit</c> with these arguments.</summary>
    public static CommandResult Run(params string[] arguments) => CommandRunner.Run(Mdevkit, arguments);

    /// <summary>Runs a command inside <c>mdevkit sim exec</c> for this root.</summary>
    public CommandResult Exec(params string[] command) => Run(["sim", "exec", "--root", Root, "--", .. command]);

    /// <summary>Runs a bash script inside <c>mdevkit sim exec</c>, where <c>/sys</c> and <c>/etc/mdevctl.d</c> are the simulator's.</summary>
    public CommandResult ExecBash(string script) => Exec("bash", "-c", script);

    public CommandResult Control(params string[] verb) => Run(["sim", .. verb, "--root", Root]);

    /// <summary>Kills this simulator's daemon as a crash would: its mounts stay, dead (ENOTCONN).</summary>
    public void Kill() => KillDaemon(Root);

    /// <summary>Kills the daemon serving <paramref name="root"/> with SIGKILL and waits until it is gone.</summary>
    public static void KillDaemon(string root)
    {
        var status = Run("sim", "status", "--root", root);
        var pid = int.Parse(status.Output.Split('\n').Single(line => line.StartsWith("pid ", StringComparison.Ordinal))[4..], System.Globalization.CultureInfo.InvariantCulture);
        using var daemon = System.Diagnostics.Process.GetProcessById(pid);
        daemon.Kill();
        daemon.WaitForExit();
    }

    public void Dispose()
    {
        var down = Control("down");
        var leftMounted = new[] { Join("sys"), Join("dev") }.Where(MountTable.IsMountPoint).ToArray();
        foreach (var mountPoint in leftMounted)
        {
            CommandRunner.Run("umount", ["-l", mountPoint]);
        }
        _root.Dispose();
        if (leftMounted.Length > 0 && down.ExitCode != 0)
        {
            throw new InvalidOperationException($"'sim down' failed and left {string.Join(", ", leftMounted)} mounted: {down.Error}");
        }
    }
}
