namespace Mdevkit.Cli.Commands.Sim;

/// <summary>
/// The directory a running simulator makes into a complete root: the mounted <c>sys/</c>, real
/// <c>etc/mdevctl.d</c> and script directories, and its own control socket, pid and log under <c>run/mdevkit</c>.
/// </summary>
internal sealed class SimRoot(string directory)
{
    /// <summary>Where <c>mdevkit sim up</c> puts the simulator when no <c>--root</c> is given.</summary>
    public const string DefaultDirectory = "/run/mdevkit/sim";

    public string Directory { get; } = Path.GetFullPath(directory);

    public string Sys => Path.Join(Directory, "sys");

    /// <summary>The mounted device nodes: <c>dev/vfio/N</c>, one per mdev's IOMMU group.</summary>
    public string Dev => Path.Join(Directory, "dev");

    public string ConfigDirectory => Path.Join(Directory, "etc/mdevctl.d");

    public string ScriptDirectory => Path.Join(Directory, "usr/lib/mdevctl/scripts.d");

    public string RunDirectory => Path.Join(Directory, "run/mdevkit");

    public string Socket => Path.Join(RunDirectory, "sim.sock");

    public string Log => Path.Join(RunDirectory, "sim.log");

    /// <summary>The real directories next to the mount: definitions and both pairs of script directories.</summary>
    public IEnumerable<string> RealDirectories =>
    [
        Path.Join(ConfigDirectory, "scripts.d/callouts"),
        Path.Join(ConfigDirectory, "scripts.d/notifiers"),
        Path.Join(ScriptDirectory, "callouts"),
        Path.Join(ScriptDirectory, "notifiers"),
        RunDirectory,
    ];
}
