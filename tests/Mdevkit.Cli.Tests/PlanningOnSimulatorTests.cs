using System.Text.Json;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// probe, plan, apply, define --fill and group start|stop as processes on a mounted simulated host:
/// the models learned are the drivers' real rules, and every failure leaves the host as it was.
/// </summary>
public sealed class PlanningOnSimulatorTests
{
    private const string Gpu0 = "0000:3e:00.0";
    private const string Gpu1 = "0000:3f:00.0";
    internal const string Callouts = "usr/lib/mdevctl/scripts.d/callouts";

    private static CommandResult Mdevkit(RunningSimulator simulator, params string[] arguments) =>
        RunningSimulator.Run([.. arguments, "--root", simulator.Root]);

    private static string[] ActiveDevices(RunningSimulator simulator) =>
        [.. Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")).Select(Path.GetFileName).OfType<string>()];

    private static string[] DefinedDevices(RunningSimulator simulator) =>
        [.. Directory.GetFiles(simulator.Join("etc/mdevctl.d"), "*", SearchOption.AllDirectories).Where(path => !path.Contains("scripts.d", StringComparison.Ordinal))];

    private static (string Kind, bool Verified, int? Pool, (string Type, int Max, int? Cost)[] Types) Probe(RunningSimulator simulator, string parent)
    {
        var probe = Mdevkit(simulator, "probe", parent, "--yes", "--json");
        Assert.True(probe.ExitCode == 0, probe.Error);
        var stored = File.ReadAllText(simulator.Join($"var/lib/mdevkit/capacity/{parent}.json"));
        Assert.Equal(probe.Output, stored);
        var model = JsonDocument.Parse(stored).RootElement;
        return (model.GetProperty("kind").GetString()!, model.GetProperty("verified").GetBoolean(),
            model.TryGetProperty("pool", out var pool) ? pool.GetInt32() : null,
            [.. model.GetProperty("types").EnumerateArray().Select(type => (type.GetProperty("type").GetString()!, type.GetProperty("max").GetInt32(),
                type.TryGetProperty("cost", out var cost) ? cost.GetInt32() : (int?)null))]);
    }

    // A callout script that lets every call through, except that the Nth start of a device runs `action`.
    internal static void CalloutOnNthStart(RunningSimulator simulator, int n, string action)
    {
        var counter = simulator.Join("starts");
        var path = simulator.Join($"{Callouts}/inject.sh");
        File.WriteAllText(path, $"""
            #!/bin/sh
            cat > /dev/null
            if [ "$4" = pre ] && [ "$6" = start ]; then
              n=$(( $(cat '{counter}' 2>/dev/null || echo 0) + 1 ))
              echo $n > '{counter}'
              if [ $n -eq {n} ]; then {action}; fi
            fi
            exit 0
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void Probe_NvidiaGpu_IsExclusiveAndLeavesNothingBehind()
    {
        using var simulator = new RunningSimulator("nvidia", nameof(PlanningOnSimulatorTests));

        var (kind, verified, pool, types) = Probe(simulator, Gpu0);

        Assert.Equal(("exclusive", true, (int?)null), (kind, verified, pool));
        Assert.Equal((14, 16, 1), (types.Length, types.Single(type => type.Type == "nvidia-11").Max, types.Single(type => type.Type == "nvidia-22").Max));
        Assert.Empty(ActiveDevices(simulator));
        Assert.Empty(DefinedDevices(simulator));
    }

    [Fact]
    public void Probe_Gvt_IsASharedPoolThatReproducesEveryOffer()
    {
        using var simulator = new RunningSimulator("gvt", nameof(PlanningOnSimulatorTests));

        var (kind, verified, _, types) = Probe(simulator, "0000:00:02.0");

        Assert.Equal(("shared-pool", true), (kind, verified));
        Assert.Equal([1, 2, 5, 7], types.Select(type => type.Max));
        Assert.Empty(ActiveDevices(simulator));
    }

    [Fact]
    public void Probe_SampleDrivers_ArePoolsWithTheirCosts()
    {
        using var simulator = new RunningSimulator("samples", nameof(PlanningOnSimulatorTests));

        var mtty = Probe(simulator, "mtty");
        var mdpy = Probe(simulator, "mdpy");
        var mbochs = Probe(simulator, "mbochs");

        Assert.Equal(("shared-pool", 24), (mtty.Kind, mtty.Pool!.Value));
        Assert.Equal([("mtty-1", 24, 1), ("mtty-2", 12, 2)], mtty.Types);
        Assert.Equal(("shared-pool", 4), (mdpy.Kind, mdpy.Pool!.Value));
        Assert.Equal([1, 1, 1], mdpy.Types.Select(type => type.Cost));
        Assert.Equal(("shared-pool", 64), (mbochs.Kind, mbochs.Pool!.Value));
        Assert.Equal([16, 4, 1], mbochs.Types.Select(type => type.Cost));
        Assert.Empty(ActiveDevices(simulator));
    }

    [Fact]
    public void Probe_SingleTypeParents_AreIndependent()
    {
        using var simulator = new RunningSimulator("s390", nameof(PlanningOnSimulatorTests));

        Assert.Equal("independent", Probe(simulator, "0.0.0123").Kind);
        Assert.Equal("independent", Probe(simulator, "matrix").Kind);
    }

    [Fact]
    public void Probe_BusyParent_RefusesAndTouchesNothing()
    {
        using var simulator = new RunningSimulator("nvidia", nameof(PlanningOnSimulatorTests));
        var uuid = Mdevkit(simulator, "start", "-p", Gpu0, "-t", "nvidia-12").Output.Trim();

        var probe = Mdevkit(simulator, "probe", Gpu0, "--yes");

        Assert.Equal(new CommandResult(1, "", $"Error: Parent {Gpu0} has 1 active device; probing needs an idle parent (stop them first)\n"), probe);
        Assert.Equal([uuid], ActiveDevices(simulator));
        Assert.False(File.Exists(simulator.Join($"var/lib/mdevkit/capacity/{Gpu0}.json")));
    }

    [Fact]
    public void Probe_NotConfirmed_CreatesNothing()
    {
        using var simulator = new RunningSimulator("samples", nameof(PlanningOnSimulatorTests));

        var probe = CommandRunner.Run(RunningSimulator.Mdevkit, ["probe", "mtty", "--root", simulator.Root], stdin: "n\n");

        Assert.Equal(1, probe.ExitCode);
        Assert.EndsWith("Continue? [y/N] Probe cancelled; nothing was changed\n", probe.Error, StringComparison.Ordinal);
        Assert.Empty(ActiveDevices(simulator));
    }

    [Fact]
    public void Probe_DeviceFailsMidway_RemovesWhatItMadeAndFails()
    {
        using var simulator = new RunningSimulator("nvidia", nameof(PlanningOnSimulatorTests));
        CalloutOnNthStart(simulator, 3, "exit 1");

        var probe = Mdevkit(simulator, "probe", Gpu0, "--yes");

        Assert.Equal(1, probe.ExitCode);
        Assert.StartsWith("Error: ", probe.Error, StringComparison.Ordinal);
        Assert.Empty(ActiveDevices(simulator));
        Assert.False(File.Exists(simulator.Join($"var/lib/mdevkit/capacity/{Gpu0}.json")));
    }

    [Fact]
    public void Probe_Interrupted_RemovesWhatItMadeAndExits130()
    {
        using var simulator = new RunningSimulator("gvt", nameof(PlanningOnSimulatorTests));
        // Ctrl-C arrives while the probe waits for the callout of its second device: a real SIGINT, at a known step.
        // The callout goes on waiting after it, as a slow script would: .NET runs signal handlers on a thread of
        // their own, and a probe let go at once could finish its last steps before that thread has run.
        CalloutOnNthStart(simulator, 2, "kill -INT $PPID; sleep 2");

        var probe = Mdevkit(simulator, "probe", "0000:00:02.0", "--yes");

        Assert.Equal(new CommandResult(130, "", "Probe interrupted; every device it made was removed\n"), probe);
        Assert.Empty(ActiveDevices(simulator));
    }

    [Fact]
    public void Plan_ProbedAndUnprobedParents_PrintsPlacementOfferAndWhatCannotFit()
    {
        using var simulator = new RunningSimulator("nvidia", nameof(PlanningOnSimulatorTests));
        Probe(simulator, Gpu0);
        Mdevkit(simulator, "start", "-p", Gpu1, "-t", "nvidia-18");

        var plan = Mdevkit(simulator, "plan", "4x nvidia-12, 2x nvidia-18, 1x nvidia-22");

        // Exit 3: the plan is printed, but part of the request cannot be placed.
        Assert.Equal(new CommandResult(3, $"""
            Placement:
                1  nvidia-12  {Gpu0}
                2  nvidia-12  {Gpu0}
                3  nvidia-12  {Gpu0}
                4  nvidia-12  {Gpu0}
                5  nvidia-18  {Gpu1}
                6  nvidia-18  {Gpu1}
            Cannot place:
              1x nvidia-22: {Gpu0} holds nvidia-12 (one type at a time)
            Remaining offer:
              {Gpu0} (exclusive): nvidia-12 12
              {Gpu1} (not probed: independent types assumed from available_instances): nvidia-18 1

            """, ""), plan);
    }

    [Fact]
    public void Plan_RequestFile_PlansAsTheSameRequestTyped()
    {
        using var simulator = new RunningSimulator("samples", nameof(PlanningOnSimulatorTests));
        File.WriteAllText(simulator.Join("request.json"), """[{"type": "mtty-2", "count": 3}, {"type": "mdpy-vga", "count": 5}]""");

        var fromFile = Mdevkit(simulator, "plan", "@" + simulator.Join("request.json"), "--json");
        var typed = Mdevkit(simulator, "plan", "3x mtty-2, 5x mdpy-vga", "--json");

        // mdpy holds four: the fifth mdpy-vga cannot be placed, which both report with exit 3.
        Assert.Equal((3, ""), (fromFile.ExitCode, fromFile.Error));
        Assert.Equal(typed, fromFile);
    }

    [Fact]
    public void Apply_Plan_DefinesAndStartsEveryDevice()
    {
        using var simulator = new RunningSimulator("nvidia", nameof(PlanningOnSimulatorTests));
        Probe(simulator, Gpu0);
        Probe(simulator, Gpu1);
        var plan = Mdevkit(simulator, "plan", "2x nvidia-18, 3x nvidia-12", "--json");
        File.WriteAllText(simulator.Join("plan.json"), plan.Output);

        var apply = Mdevkit(simulator, "apply", simulator.Join("plan.json"));

        Assert.Equal((0, ""), (apply.ExitCode, apply.Error));
        var made = apply.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')).ToList();
        Assert.Equal(["nvidia-18", "nvidia-18", "nvidia-12", "nvidia-12", "nvidia-12"], made.Select(device => device[2]));
        Assert.Equal(made.Select(device => device[0]).Order(), ActiveDevices(simulator).Order());
        Assert.Equal(5, DefinedDevices(simulator).Length);
        Assert.All(made.GroupBy(device => device[1]), parent => Assert.Single(parent.Select(device => device[2]).Distinct()));
    }

    [Fact]
    public void Apply_OneDeviceCannotBeMade_UndoesTheOthersAndFails()
    {
        using var simulator = new RunningSimulator("nvidia", nameof(PlanningOnSimulatorTests));
        // The third device asks for a second type on a GPU that holds one type at a time.
        File.WriteAllText(simulator.Join("plan.json"), $$"""
            {"devices": [{"parent": "{{Gpu0}}", "type": "nvidia-12"}, {"parent": "{{Gpu1}}", "type": "nvidia-18"}, {"parent": "{{Gpu0}}", "type": "nvidia-15"}],
             "unplaced": [], "offer": []}
            """);

        var apply = Mdevkit(simulator, "apply", simulator.Join("plan.json"));

        Assert.Equal((1, ""), (apply.ExitCode, apply.Output));
        Assert.StartsWith("Error: No available instances of nvidia-15 on 0000:3e:00.0", apply.Error, StringComparison.Ordinal);
        Assert.Empty(ActiveDevices(simulator));
        Assert.Empty(DefinedDevices(simulator));
    }

    // The apply is killed with SIGKILL by its own callout script at the second device's start: one device runs,
    // two are defined, and its journal is left. The next transaction on the root rolls all of that back first.
    [Fact]
    public void Apply_KilledHalfway_TheNextTransactionRollsItBackFirst()
    {
        using var simulator = new RunningSimulator("samples", nameof(PlanningOnSimulatorTests));
        var device = """{"parent": "mtty", "type": "mtty-1"}""";
        File.WriteAllText(simulator.Join("plan.json"), $$"""{"devices": [{{device}}, {{device}}, {{device}}], "unplaced": [], "offer": []}""");
        File.WriteAllText(simulator.Join("one.json"), $$"""{"devices": [{{device}}], "unplaced": [], "offer": []}""");
        CalloutOnNthStart(simulator, 2, "kill -9 $PPID");

        var killed = Mdevkit(simulator, "apply", simulator.Join("plan.json"));
        var (leftActive, leftDefined) = (ActiveDevices(simulator), DefinedDevices(simulator));
        var journal = File.Exists(simulator.Join("run/mdevkit/transaction.journal"));
        File.Delete(simulator.Join($"{Callouts}/inject.sh"));
        var next = Mdevkit(simulator, "apply", simulator.Join("one.json"));

        Assert.Equal(137, killed.ExitCode);
        Assert.Equal((1, 2, true), (leftActive.Length, leftDefined.Length, journal));
        Assert.True(next.ExitCode == 0, next.Error);
        Assert.Contains($"Rolled back a killed transaction: stop {leftActive[0]}", next.Error, StringComparison.Ordinal);
        var made = next.Output.Split(' ')[0];
        Assert.Equal([made], ActiveDevices(simulator));
        Assert.Equal([made], DefinedDevices(simulator).Select(Path.GetFileName));
        Assert.False(File.Exists(simulator.Join("run/mdevkit/transaction.journal")));
    }

    [Fact]
    public void Apply_APlanThatNoLongerFits_IsRefusedBeforeAnythingIsMade()
    {
        using var simulator = new RunningSimulator("nvidia", nameof(PlanningOnSimulatorTests));
        Probe(simulator, Gpu0);
        Probe(simulator, Gpu1);
        File.WriteAllText(simulator.Join("plan.json"), Mdevkit(simulator, "plan", "2x nvidia-12", "--json").Output);
        // Meanwhile each GPU took another type, and holds one type at a time.
        Mdevkit(simulator, "start", "-p", Gpu0, "-t", "nvidia-18");
        Mdevkit(simulator, "start", "-p", Gpu1, "-t", "nvidia-18");

        var apply = Mdevkit(simulator, "apply", simulator.Join("plan.json"));

        Assert.Equal((1, ""), (apply.ExitCode, apply.Output));
        Assert.StartsWith("Error: The plan no longer fits this host; plan again\n\nCaused by:\n    ", apply.Error, StringComparison.Ordinal);
        Assert.Contains(" cannot hold 2x nvidia-12 beside what runs there now\n", apply.Error, StringComparison.Ordinal);
        Assert.Equal(2, ActiveDevices(simulator).Length);
        Assert.Empty(DefinedDevices(simulator));
    }

    [Fact]
    public void DefineFill_WithStart_MakesExactlyWhatTheParentHolds()
    {
        using var simulator = new RunningSimulator("gvt", nameof(PlanningOnSimulatorTests));

        var fill = Mdevkit(simulator, "define", "--fill", "0000:00:02.0", "--type", "i915-GVTg_V5_4", "--start", "--auto");
        var left = File.ReadAllText(simulator.Join("sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances"));

        Assert.Equal((0, 5), (fill.ExitCode, fill.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length));
        Assert.Equal(5, ActiveDevices(simulator).Length);
        Assert.Equal(5, DefinedDevices(simulator).Count(path => File.ReadAllText(path).Contains("\"auto\"", StringComparison.Ordinal)));
        Assert.Equal("0\n", left);
    }

    [Fact]
    public void DefineFill_WithoutStart_DefinesTheCurrentOffer_AndMdevctlHasNoSuchOption()
    {
        using var simulator = new RunningSimulator("samples", nameof(PlanningOnSimulatorTests));
        Mdevkit(simulator, "start", "-p", "mtty", "-t", "mtty-2");

        var fill = Mdevkit(simulator, "define", "--fill", "mtty", "--type", "mtty-2");
        var mdevctl = simulator.Join("bin/mdevctl");
        Directory.CreateDirectory(simulator.Join("bin"));
        File.CreateSymbolicLink(mdevctl, RunningSimulator.Mdevkit);
        var asMdevctl = CommandRunner.Run(mdevctl, ["define", "--fill", "mtty", "--type", "mtty-2"], environment: new Dictionary<string, string> { ["MDEVCTL_ENV_ROOT"] = simulator.Root });

        Assert.Equal((0, 11), (fill.ExitCode, fill.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length));
        Assert.Equal(11, DefinedDevices(simulator).Length);
        Assert.Single(ActiveDevices(simulator));
        Assert.Equal((2, "error: unexpected argument '--fill' found"), (asMdevctl.ExitCode, asMdevctl.Error.Split('\n')[0]));
    }

    [Fact]
    public void GroupStart_OneMemberCannotStart_StopsTheOthers_ThenStartAndStopTogether()
    {
        using var simulator = new RunningSimulator("samples", nameof(PlanningOnSimulatorTests));
        // mdpy holds four devices in all: the fifth member cannot start.
        var members = Enumerable.Range(0, 5).Select(_ => Mdevkit(simulator, "define", "-p", "mdpy", "-t", "mdpy-vga").Output.Trim()).ToArray();
        Mdevkit(simulator, ["group", "add", "vm", .. members]);

        var tooMany = Mdevkit(simulator, "start", "--group", "vm");
        var afterFailure = ActiveDevices(simulator);
        Mdevkit(simulator, "group", "remove", "vm", members[4]);
        var start = Mdevkit(simulator, "start", "--group", "vm");
        var started = ActiveDevices(simulator);
        var list = Mdevkit(simulator, "group", "list");
        var stop = Mdevkit(simulator, "stop", "--group", "vm");

        Assert.Equal(new CommandResult(1, "", $"Error: Cannot start group vm: device {members[4]}: No available instances of mdpy-vga on mdpy\n"), tooMany);
        Assert.Empty(afterFailure);
        Assert.Equal((0, string.Concat(members[..4].Select(uuid => uuid + "\n"))), (start.ExitCode, start.Output));
        Assert.Equal(members[..4].Order(), started.Order());
        Assert.Equal(string.Concat(members[..4].Select(uuid => $"vm {uuid}\n")), list.Output);
        Assert.Equal(0, stop.ExitCode);
        Assert.Empty(ActiveDevices(simulator));
    }
}
