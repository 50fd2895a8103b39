using System.Text.RegularExpressions;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// Roots that are not what the user meant: a --root that is a file or no root at all, and a simulator
/// running while the command looks at <c>/</c>. The <c>/</c> cases run in a private mount namespace whose
/// <c>/etc/mdevctl.d</c> and mdev bus are emptied and where only this test's simulator is mounted, so what
/// the machine or other tests have does not change the answer.
/// </summary>
public sealed partial class RootCheckTests : IDisposable
{
    private readonly TempRoot _scratch = new(nameof(RootCheckTests));

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Root_ThatIsAFile_IsRefused()
    {
        _scratch.File("plain", "");

        var result = CliRunner.Run("mdevkit", "list", "--root", _scratch.Join("plain"));

        Assert.Equal((1, "", $"Error: --root {_scratch.Join("plain")} is a file, not a root directory\n"), result);
    }

    [Fact]
    public void Root_ThatDoesNotExist_IsRefused()
    {
        var result = CliRunner.Run("mdevkit", "types", "--root", _scratch.Join("nowhere"));

        Assert.Equal((1, "", $"Error: --root {_scratch.Join("nowhere")} does not exist\n"), result);
    }

    [Theory]
    [InlineData("usr/lib/mdevctl/scripts.d")]
    [InlineData("etc/mdevctl.d/scripts.d")]
    public void MdevctlName_OnEitherLayout_WorksThroughTheVariable(string scripts)
    {
        _scratch.File("etc/mdevctl.d/mdpy/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", """{"mdev_type":"mdpy-vga","start":"manual","attrs":[]}""");
        Directory.CreateDirectory(_scratch.Join($"{scripts}/callouts"));
        Directory.CreateDirectory(_scratch.Join($"{scripts}/notifiers"));
        var result = CommandRunner.Run(MdevctlLink(), ["list", "-d"], environment: new Dictionary<string, string> { ["MDEVCTL_ENV_ROOT"] = _scratch.Path });

        Assert.Equal(new CommandResult(0, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 mdpy mdpy-vga manual\n", ""), result);
    }

    [Fact]
    public void Root_ThatIsNoRoot_NamesTheRunningSimulator()
    {
        using var simulator = new RunningSimulator("samples", nameof(RootCheckTests));
        Directory.CreateDirectory(_scratch.Join("empty"));

        var result = Isolated(simulator, "", "\"$MDEVKIT\" list --root " + _scratch.Join("empty"));

        Assert.Equal(new CommandResult(1, "", $"Error: --root {_scratch.Join("empty")} is not a root: it has neither sys/ nor etc/mdevctl.d; a simulated host is running at {simulator.Root}: use --root {simulator.Root} (or MDEVCTL_ENV_ROOT={simulator.Root})\n"), result);
    }

    [Fact]
    public void SystemRoot_WithoutInstallation_WhileASimulatorRuns_ShowsTheFix()
    {
        using var simulator = new RunningSimulator("samples", nameof(RootCheckTests));

        var mdevkit = Isolated(simulator, "", "\"$MDEVKIT\" list");
        var mdevctl = Isolated(simulator, "", MdevctlLink() + " list");

        Assert.Equal(new CommandResult(1, "", $"Error: no mdevctl installation under / (/etc/mdevctl.d or its script directories are missing), but a simulated host is running at {simulator.Root}: use --root {simulator.Root} (or MDEVCTL_ENV_ROOT={simulator.Root})\n"), mdevkit);
        Assert.Equal(new CommandResult(1, "", $"Error: no mdevctl installation under / (/etc/mdevctl.d or its script directories are missing), but a simulated host is running at {simulator.Root}: use MDEVCTL_ENV_ROOT={simulator.Root}, or run the command through 'mdevkit sim exec --root {simulator.Root} -- …'\n"), mdevctl);
    }

    [Fact]
    public void SystemRoot_WithNothingOnIt_WhileASimulatorRuns_WarnsAndStillRuns()
    {
        using var simulator = new RunningSimulator("samples", nameof(RootCheckTests));

        var result = Isolated(simulator, "mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers", "\"$MDEVKIT\" list");

        Assert.Equal((0, ""), (result.ExitCode, result.Output));
        Assert.Equal($"[TIME WARN  mdevctl] No mediated device parents or definitions under /, but a simulated host is running at {simulator.Root}: use --root {simulator.Root} (or MDEVCTL_ENV_ROOT={simulator.Root})\n", LogTime().Replace(result.Error, "[TIME "));
    }

    // mdevkit under the name mdevctl, as the package and make install link it.
    private string MdevctlLink()
    {
        var link = _scratch.Join("bin/mdevctl");
        Directory.CreateDirectory(_scratch.Join("bin"));
        File.CreateSymbolicLink(link, RunningSimulator.Mdevkit);
        return link;
    }

    // A namespace in which / has an empty /etc/mdevctl.d (then `prepare`), no mdev bus, no script
    // directory of mdevctl 1.3, and no simulator but this test's; then `command` runs.
    private static CommandResult Isolated(RunningSimulator simulator, string prepare, string command)
    {
        var script = $"""
            set -e
            findmnt -rn -t fuse.mdevkit-sim -o TARGET | while read -r target; do
              target=$(printf '%b' "$target")
              case "$target" in "$OURS"/*) ;; *) umount -l "$target" ;; esac
            done
            mount -t tmpfs empty /etc/mdevctl.d
            if [ -d /sys/class/mdev_bus ]; then mount -t tmpfs empty /sys/class/mdev_bus; fi
            if [ -d /usr/lib/mdevctl ]; then mount -t tmpfs empty /usr/lib/mdevctl; fi
            {prepare}
            set +e
            env -u MDEVCTL_ENV_ROOT {command}
            """;
        return CommandRunner.Run("unshare", ["--mount", "--propagation", "private", "bash", "-c", script],
            environment: new Dictionary<string, string> { ["MDEVKIT"] = RunningSimulator.Mdevkit, ["OURS"] = simulator.Root });
    }

    [GeneratedRegex(@"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", RegexOptions.Multiline)]
    private static partial Regex LogTime();
}
