using System.Text;
using System.Text.RegularExpressions;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// Debian's mdevctl (1.2.0, the <c>mdevctl</c> package) and mdevkit as <c>mdevctl</c>, each inside
/// <c>mdevkit sim exec</c> on its own simulated host booted from the same profile, run the same command
/// sequences. Every step must give the same exit code, output and messages, and both hosts must end in
/// the same kernel state and the same definition files.
/// </summary>
/// <remarks>
/// mdevkit follows mdevctl 1.4; what 1.2.0 does differently is normalized here, and only this:
/// <list type="table">
/// <item><term>final newline</term><description>1.2.0 ends a listing (<c>list</c>, <c>types</c>, text or JSON) with one more <c>\n</c>; it is dropped from 1.2.0's output.</description></item>
/// <item><term>log time</term><description>warnings carry the second they were logged; both become <c>[TIME</c>.</description></item>
/// <item><term>usage errors</term><description>1.2.0 reports them in clap 3's format, 1.4 in clap 4's (<c>error: …</c>, a usage line, <c>For more information, try '--help'.</c>); for exit code 2 only the code and the <c>error:</c> prefix are compared.</description></item>
/// <item><term>generated UUIDs</term><description>a UUID the scenario did not name is random on both sides; both become <c>GENERATED</c>.</description></item>
/// </list>
/// One difference is mdevkit's own, from 1.2.0 and 1.4 alike (docs/mdevctl.md, improvements):
/// <list type="table">
/// <item><term>autostart of a running device</term><description><c>start-parent-mdevs</c> leaves a device that already runs as defined alone, where mdevctl tries again and warns <c>Device already exists</c>; that warning is dropped from mdevctl's output.</description></item>
/// </list>
/// The other 1.2.0 differences (<c>MDEVCTL_ENV_ROOT</c>, script directories, <c>modify</c>'s options,
/// <c>list</c> of a running device whose definition changed, notifier stdin) are left out of the
/// scenarios and listed in docs/mdevctl.md.
/// </remarks>
public sealed partial class DebianMdevctlTests
{
    private const string A = "11111111-2222-3333-4444-555555555555";
    private const string B = "21111111-2222-3333-4444-555555555555";
    private const string C = "31111111-2222-3333-4444-555555555555";
    private const string Nvidia = "0000:3e:00.0";
    private const string HiddenNvidia = "0000:3f:00.0";

    public static TheoryData<string> Scenarios => [.. s_scenarios.Keys];

    private static readonly Dictionary<string, string[]> s_scenarios = new()
    {
        ["transient"] =
        [
            "types -p mtty", "types --dumpjson -p mtty",
            $"start -p mtty -t mtty-1 -u {A}", $"start --parent=mtty --type=mtty-2 --uuid={B}",
            "list", "list --dumpjson", "list -v", $"list -u {A}", "list -p mtty --dumpjson", "types -p mtty",
            $"stop -u {A}", "list", $"stop -u {A}", $"start -p mtty -t mtty-1 -u {B}",
        ],
        ["persistent"] =
        [
            $"define -p mdpy -t mdpy-vga -u {A} --auto", $"define -p mdpy -t mdpy-hd -u {B}",
            $"modify -u {B} --addattr=foo --value=bar", $"modify -u {B} --auto", $"modify -u {A} --manual",
            "list -d", "list -d -v", "list -d --dumpjson", $"list -d -u {B} --dumpjson",
            $"start -u {A}", "list", "list -d", $"start -u {B}", "list",
            $"undefine -u {A}", "list -d", "list", $"undefine -u {A}", $"stop -u {A}",
        ],
        ["define from a running device, autostart"] =
        [
            $"start -p mtty -t mtty-2 -u {A}", $"define -u {A}", $"modify -u {A} --auto",
            $"define -p mtty -t mtty-1 -u {B} --auto", $"define -p mtty -t mtty-1 -u {C}",
            "start-parent-mdevs mtty", "list", "list -d", "types -p mtty", "start-parent-mdevs mtty", "list",
        ],
        ["one vGPU type per GPU"] =
        [
            $"start -p {Nvidia} -t nvidia-12 -u {A}", $"types -p {Nvidia}", $"start -p {Nvidia} -t nvidia-15 -u {B}",
            $"start -p {HiddenNvidia} -t nvidia-18 -u {C}", $"types -p {HiddenNvidia} --dumpjson", "list",
            $"stop -u {A}", $"types -p {Nvidia}",
        ],
        ["shared GVT-g pool"] =
        [
            $"start -p 0000:00:02.0 -t i915-GVTg_V5_1 -u {A}", "types -p 0000:00:02.0",
            $"start -p 0000:00:02.0 -t i915-GVTg_V5_1 -u {B}", $"start -p 0000:00:02.0 -t i915-GVTg_V5_8 -u {C}", "types -p 0000:00:02.0",
        ],
        ["s390"] =
        [
            $"define -p matrix -t vfio_ap-passthrough -u {A}", $"modify -u {A} --addattr=assign_adapter --value=5",
            $"modify -u {A} --addattr=assign_domain --value=0xab", $"modify -u {A} --addattr=assign_control_domain --value=0xab",
            $"start -u {A}", "list -v", "list -d --dumpjson", $"start -p 0.0.0123 -t vfio_ccw-io -u {B}", $"start -p 0.0.0123 -t vfio_ccw-io -u {C}",
            "types -p 0.0.0123", "list",
        ],
        ["errors"] =
        [
            $"start -u {A}", $"stop -u {A}", $"undefine -u {A}", $"list -u {A}", $"define -u {A}",
            "define -p mdpy -t mdpy-vga", "define -p nosuchparent -t x", "start -p mtty -t nosuchtype",
            $"start -p mtty -t mtty-1 -u {A}", $"start -p mtty -t mtty-1 -u {A}", $"start -p mdpy -t mdpy-vga -u {A}",
            $"define -p mtty -t mtty-1 -u {A}", $"define -p mtty -t mtty-1 -u {A}",
            "types -p nosuchparent", "list -p nosuchparent", "list -d -p nosuchparent",
            "start -p mtty -t mtty-1 -u not-a-uuid", $"start-parent-mdevs nosuchparent",
        ],
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_GivesWhatDebiansMdevctlGives(string scenario)
    {
        using var debian = new RunningSimulator("default", nameof(DebianMdevctlTests));
        using var ours = new RunningSimulator("default", nameof(DebianMdevctlTests));
        Directory.CreateDirectory(ours.Join("bin"));
        File.CreateSymbolicLink(ours.Join("bin/mdevctl"), RunningSimulator.Mdevkit);
        var steps = s_scenarios[scenario];

        var debianSteps = RunSteps(debian, "/usr/bin/mdevctl", steps);
        var ourSteps = RunSteps(ours, ours.Join("bin/mdevctl"), steps);

        for (var i = 0; i < steps.Length; i++)
        {
            Assert.Equal((steps[i], Normalize(steps[i], debianSteps[i], fromDebian: true)), (steps[i], Normalize(steps[i], ourSteps[i], fromDebian: false)));
        }
        Assert.Equal(KernelState(debian), KernelState(ours));
        Assert.Equal(Definitions(debian), Definitions(ours));
    }

    [Fact]
    public void DebiansMdevctl_MakesAndRemovesRealDevicesInTheSimulatedKernel()
    {
        using var simulator = new RunningSimulator("default", nameof(DebianMdevctlTests));
        var mdpy = simulator.Join("sys/class/mdev_bus/mdpy/mdev_supported_types/mdpy-xga/available_instances");

        var start = simulator.Exec("mdevctl", "start", "-p", "mdpy", "-t", "mdpy-xga", "-u", A);
        var whileRunning = (Directory.Exists(simulator.Join($"sys/bus/mdev/devices/{A}")), File.ReadAllText(mdpy));
        var define = simulator.ExecBash($"mdevctl define -u {A} --auto && mdevctl stop -u {A} && mdevctl start-parent-mdevs mdpy && mdevctl list");
        var stop = simulator.Exec("mdevctl", "stop", "-u", A);

        Assert.Equal(new CommandResult(0, "", ""), start);
        Assert.Equal((true, "3\n"), whileRunning);
        Assert.Equal(new CommandResult(0, $"{A} mdpy mdpy-xga auto (defined)\n\n", ""), define);
        Assert.Equal(new CommandResult(0, "", ""), stop);
        Assert.Equal((false, "4\n"), (Directory.Exists(simulator.Join($"sys/bus/mdev/devices/{A}")), File.ReadAllText(mdpy)));
        Assert.True(File.Exists(simulator.Join($"etc/mdevctl.d/mdpy/{A}")));
    }

    [Fact]
    public void Normalization_KeepsRealDifferences()
    {
        var debian = new CommandResult(0, $"{A} mtty mtty-1 manual\n\n", "");
        var changed = new CommandResult(0, $"{A} mtty mtty-2 manual\n", "");

        Assert.NotEqual(Normalize("list", debian, fromDebian: true), Normalize("list", changed, fromDebian: false));
        Assert.Equal(Normalize("list", debian, fromDebian: true), Normalize("list", changed with { Output = $"{A} mtty mtty-1 manual\n" }, fromDebian: false));
        Assert.NotEqual(Normalize("define", debian, fromDebian: true), Normalize("define", changed with { Output = $"{A} mtty mtty-1 manual\n" }, fromDebian: false));
    }

    // One sim exec per side: a bash script runs every step and leaves each one's exit code and output in files.
    private static CommandResult[] RunSteps(RunningSimulator simulator, string mdevctl, string[] steps)
    {
        var results = simulator.Join("run/steps");
        Directory.CreateDirectory(results);
        var script = new StringBuilder();
        for (var i = 0; i < steps.Length; i++)
        {
            script.Append($"\"$0\" {steps[i]} >\"$1/{i}.out\" 2>\"$1/{i}.err\"; echo $? >\"$1/{i}.rc\"\n");
        }
        var run = simulator.Exec("bash", "-c", script.ToString(), mdevctl, results);
        Assert.True(run.ExitCode == 0, run.Error);
        return [.. Enumerable.Range(0, steps.Length).Select(i => new CommandResult(
            int.Parse(File.ReadAllText(Path.Join(results, $"{i}.rc"))),
            File.ReadAllText(Path.Join(results, $"{i}.out")),
            File.ReadAllText(Path.Join(results, $"{i}.err"))))];
    }

    private static CommandResult Normalize(string step, CommandResult result, bool fromDebian)
    {
        var (output, error) = (result.Output, LogTime().Replace(result.Error, "[TIME"));
        if (fromDebian && step.Split(' ')[0] is "list" or "types" && output.EndsWith('\n'))
        {
            output = output[..^1];
        }
        if (fromDebian && step.StartsWith("start-parent-mdevs", StringComparison.Ordinal))
        {
            error = error.Replace("[TIME WARN  mdevctl] Device already exists\n", "", StringComparison.Ordinal);
        }
        if (result.ExitCode == 2)
        {
            error = error.StartsWith("error: ", StringComparison.Ordinal) ? "error: …" : error;
        }
        return new CommandResult(result.ExitCode, Generated(output), Generated(error));
    }

    private static string Generated(string text) =>
        UuidPattern().Replace(text, match => match.Value is A or B or C ? match.Value : "GENERATED");

    // What the simulated kernel holds: each device with its parent and type, and every type's offer.
    private static string KernelState(RunningSimulator simulator)
    {
        var state = new StringBuilder();
        foreach (var device in Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")).Order(StringComparer.Ordinal))
        {
            var type = new DirectoryInfo(Path.Join(device, "mdev_type")).ResolveLinkTarget(returnFinalTarget: false)!.FullName;
            state.Append($"{Generated(Path.GetFileName(device))} {Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(type)))} {Path.GetFileName(type)}\n");
        }
        foreach (var parent in Directory.GetFileSystemEntries(simulator.Join("sys/class/mdev_bus")).Order(StringComparer.Ordinal))
        {
            foreach (var type in Directory.GetDirectories(Path.Join(parent, "mdev_supported_types")).Order(StringComparer.Ordinal))
            {
                state.Append($"{Path.GetFileName(parent)} {Path.GetFileName(type)} {File.ReadAllText(Path.Join(type, "available_instances")).Trim()}\n");
            }
        }
        return state.ToString();
    }

    private static string Definitions(RunningSimulator simulator) => string.Concat(
        from file in Directory.GetFiles(simulator.Join("etc/mdevctl.d"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        select $"{Generated(Path.GetRelativePath(simulator.Root, file))}\n{File.ReadAllText(file)}\n");

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex UuidPattern();

    [GeneratedRegex(@"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")]
    private static partial Regex LogTime();
}
