using Mdevkit.Simulation;
using Mdevkit.Simulation.Profiles;
using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>
/// A simulated host booted in this process and mounted through FUSE at <c>ROOT/sys</c>, so that real
/// processes (bash, coreutils) act on it while the test can look at the model directly.
/// </summary>
internal sealed class MountedHost : IDisposable
{
    private readonly TempRoot _root;
    private readonly FuseMount _devices;

    public MountedHost(string profile, string owner)
    {
        _root = new TempRoot(owner);
        Host = SimulatedHost.Boot(HostProfile.Load(profile));
        Directory.CreateDirectory(_root.Join("sys"));
        Directory.CreateDirectory(_root.Join("dev"));
        Mount = FuseMount.Mount(Host.Tree, "sys", _root.Join("sys"), Warn);
        _devices = FuseMount.Mount(Host.Tree, "dev", _root.Join("dev"), Warn);
    }

    public SimulatedHost Host { get; }

    /// <summary>Where a test's mounts tell what went wrong while serving: the test's own error output.</summary>
    public static void Warn(string warning) => Console.Error.WriteLine($"fuse: {warning}");

    /// <summary>The mount of <c>sys</c>; <c>dev</c> (the VFIO group nodes) is mounted beside it.</summary>
    public FuseMount Mount { get; }

    /// <summary>The directory that holds the mounted <c>sys</c>.</summary>
    public string Root => _root.Path;

    /// <summary>A path under the mount, e.g. <c>sys/class/mdev_bus</c>.</summary>
    public string Join(string relative) => _root.Join(relative);

    /// <summary>Runs a bash script with the root as its working directory, so paths in it are relative.</summary>
    public CommandResult Bash(string script, params string[] arguments) =>
        CommandRunner.Run("bash", ["-c", $"cd \"$ROOT\" && {script}", "bash", .. arguments], environment: new Dictionary<string, string> { ["ROOT"] = Root });

    /// <summary>Starts a bash script in the background, as <see cref="Bash"/> runs one; its output is read when it ends.</summary>
    public Task<CommandResult> BashInBackground(string script, params string[] arguments) =>
        Task.Run(() => Bash(script, arguments));

    public void Dispose()
    {
        Host.Core.Shutdown();
        Mount.Dispose();
        _devices.Dispose();
        _root.Dispose();
    }
}
