using System.Text.Json;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// probe, plan and apply on NVIDIA's SR-IOV GPUs (Ampere's mdev on virtual functions, vGPU 17+'s vendor-specific VFIO)
/// as processes on a mounted simulated host: the GPU is one parent whose virtual functions share it, one framebuffer
/// size at a time unless mixed sizes are on, and apply enables the virtual functions it needs, all or nothing.
/// </summary>
public sealed class SriovPlanningOnSimulatorTests
{
    private const string A40 = "0000:41:00.0";
    private const string SecondA40 = "0000:42:00.0";
    private const string L40S = "0000:81:00.0";
    private const string SecondL40S = "0000:82:00.0";

    private static CommandResult Mdevkit(RunningSimulator simulator, params string[] arguments) =>
        RunningSimulator.Run([.. arguments, "--root", simulator.Root]);

    private static string NumVfs(RunningSimulator simulator, string gpu) => File.ReadAllText(simulator.Join($"sys/bus/pci/devices/{gpu}/sriov_numvfs")).Trim();

    private static JsonElement Probe(RunningSimulator simulator, string gpu)
    {
        var probe = Mdevkit(simulator, "probe", gpu, "--yes", "--json");
        Assert.True(probe.ExitCode == 0, probe.Error);
        return JsonDocument.Parse(probe.Output).RootElement;
    }

    private static int Max(JsonElement model, string type) =>
        model.GetProperty("types").EnumerateArray().Single(candidate => candidate.GetProperty("type").GetString() == type).GetProperty("max").GetInt32();

    // A stored one-size model of an A40, every type with its size in GB (B, Q, A and C series), as probe writes it.
    private static void StoreA40Model(RunningSimulator simulator, string gpu)
    {
        (int FirstId, int[] Sizes)[] series = [(555, [1, 2]), (557, [1]), (558, [2, 3, 4, 6, 8, 12, 16, 24, 48]), (567, [1, 2, 3, 4, 6, 8, 12, 16, 24, 48]), (581, [4, 6, 8, 12, 16, 24, 48])];
        var types = series.SelectMany(one => one.Sizes.Select((size, index) =>
            $$"""{"type": "nvidia-{{one.FirstId + index}}", "max": {{Math.Min(48 / size, 32)}}, "size": {{size * 1024}}}"""));
        Directory.CreateDirectory(simulator.Join("var/lib/mdevkit/capacity"));
        File.WriteAllText(simulator.Join($"var/lib/mdevkit/capacity/{gpu}.json"),
            $$"""{"parent": "{{gpu}}", "kind": "one-size", "slots": 32, "verified": true, "types": [{{string.Join(", ", types)}}]}""");
    }

    private static string[] Lines(CommandResult result) => result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void ProbePlanApply_TwoA40s_OneSizePerGpu_EnablingTheirVfs()
    {
        using var simulator = new RunningSimulator("nvidia-ampere", nameof(SriovPlanningOnSimulatorTests));

        var model = Probe(simulator, A40);
        Probe(simulator, SecondA40);
        var vfsAfterProbe = NumVfs(simulator, A40);
        var plan = Mdevkit(simulator, "plan", "4x nvidia-563, 2x nvidia-565", "--json");
        File.WriteAllText(simulator.Join("plan.json"), plan.Output);
        var apply = Mdevkit(simulator, "apply", simulator.Join("plan.json"));

        Assert.Equal(("one-size", true, 32), (model.GetProperty("kind").GetString(), model.GetProperty("verified").GetBoolean(), model.GetProperty("slots").GetInt32()));
        Assert.Equal((32, 4, 4, 2, 1), (Max(model, "nvidia-555"), Max(model, "nvidia-563"), Max(model, "nvidia-573"), Max(model, "nvidia-565"), Max(model, "nvidia-566")));
        Assert.Equal("0", vfsAfterProbe);
        Assert.Equal((0, ""), (plan.ExitCode, plan.Error));
        Assert.Equal((0, ""), (apply.ExitCode, apply.Error));
        var made = Lines(apply).Select(line => line.Split(' ')).ToList();
        Assert.Equal(6, made.Select(device => device[1]).Distinct().Count());
        // Each GPU holds one size: the four 12 GB vGPUs on one, the two 24 GB ones on the other.
        Assert.Equal([["nvidia-563", "nvidia-563", "nvidia-563", "nvidia-563"], ["nvidia-565", "nvidia-565"]],
            made.GroupBy(device => device[1][..7]).Select(gpu => gpu.Select(device => device[2]).ToArray()).OrderBy(types => -types.Length));
        Assert.Equal(("32", "32"), (NumVfs(simulator, A40), NumVfs(simulator, SecondA40)));
        Assert.Equal(made.Select(device => device[0]).Order(), Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void StartOnTheGpu_EachOnTheNextFreeVf_EnablingVfsFirst_UntilTheModelHoldsNoMore()
    {
        using var simulator = new RunningSimulator("nvidia-ampere", nameof(SriovPlanningOnSimulatorTests));
        StoreA40Model(simulator, A40);
        const string Uuid = "11111111-2222-3333-4444-555555555555";

        var first = Mdevkit(simulator, "start", "-p", A40, "-t", "nvidia-565", "-u", Uuid);
        var vfs = NumVfs(simulator, A40);
        var second = Mdevkit(simulator, "start", "-p", A40, "-t", "nvidia-565");
        var full = Mdevkit(simulator, "start", "-p", A40, "-t", "nvidia-565");
        var otherSize = Mdevkit(simulator, "start", "-p", A40, "-t", "nvidia-563");
        var unprobed = Mdevkit(simulator, "start", "-p", SecondA40, "-t", "nvidia-565");

        Assert.Equal(new CommandResult(0, "", ""), first);
        Assert.Equal("32", vfs);
        Assert.Equal((0, ""), (second.ExitCode, second.Error));
        Assert.Equal([$"{Uuid} 0000:41:00.4 nvidia-565 manual", $"{second.Output.Trim()} 0000:41:00.5 nvidia-565 manual"], Lines(Mdevkit(simulator, "list")).Order(StringComparer.Ordinal));
        Assert.Equal(new CommandResult(1, "", "Error: Cannot start a nvidia-565 on GPU 0000:41:00.0\n\nCaused by:\n    0000:41:00.0 has no nvidia-565 left\n"), full);
        Assert.Equal(new CommandResult(1, "", "Error: Cannot start a nvidia-563 on GPU 0000:41:00.0\n\nCaused by:\n    0000:41:00.0 holds nvidia-565 (one framebuffer size at a time)\n"), otherSize);
        Assert.Equal(new CommandResult(1, "", "Error: Cannot start a nvidia-565 on GPU 0000:42:00.0\n\nCaused by:\n    GPU 0000:42:00.0 is not planned on before it is probed (mdevkit probe 0000:42:00.0)\n"), unprobed);
        Assert.Equal("0", NumVfs(simulator, SecondA40));
    }

    [Fact]
    public void Apply_OnGpusWithoutVfs_FailingMidway_UndoesEveryDeviceAndDisablesTheVfsAgain()
    {
        using var simulator = new RunningSimulator("nvidia-ampere", nameof(SriovPlanningOnSimulatorTests));
        StoreA40Model(simulator, A40);
        StoreA40Model(simulator, SecondA40);
        File.WriteAllText(simulator.Join("plan.json"), Mdevkit(simulator, "plan", "4x nvidia-563, 2x nvidia-565", "--json").Output);
        PlanningOnSimulatorTests.CalloutOnNthStart(simulator, 5, "exit 1");

        var apply = Mdevkit(simulator, "apply", simulator.Join("plan.json"));

        Assert.Equal((1, ""), (apply.ExitCode, apply.Output));
        Assert.StartsWith("Error: ", apply.Error, StringComparison.Ordinal);
        Assert.Equal(("0", "0"), (NumVfs(simulator, A40), NumVfs(simulator, SecondA40)));
        Assert.Empty(Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")));
        Assert.DoesNotContain(Directory.GetFiles(simulator.Join("etc/mdevctl.d"), "*", SearchOption.AllDirectories), path => !path.Contains("scripts.d", StringComparison.Ordinal));
    }

    // Killed with SIGKILL at the second device's start, the apply leaves the VFs it enabled, a device and its journal:
    // the next transaction on the root undoes all of it first, disabling the VFs again.
    [Fact]
    public void Apply_OnAGpuWithoutVfs_KilledHalfway_TheNextTransactionDisablesTheVfsAgain()
    {
        using var simulator = new RunningSimulator("nvidia-ampere", nameof(SriovPlanningOnSimulatorTests));
        StoreA40Model(simulator, A40);
        File.WriteAllText(simulator.Join("plan.json"), Mdevkit(simulator, "plan", "2x nvidia-563", "--json").Output);
        PlanningOnSimulatorTests.CalloutOnNthStart(simulator, 2, "kill -9 $PPID");

        var killed = Mdevkit(simulator, "apply", simulator.Join("plan.json"));
        var (vfsLeft, devicesLeft) = (NumVfs(simulator, A40), Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")).Length);
        File.Delete(simulator.Join($"{PlanningOnSimulatorTests.Callouts}/inject.sh"));
        var next = Mdevkit(simulator, "stop", "--group", "none");

        Assert.Equal(137, killed.ExitCode);
        Assert.Equal(("32", 1), (vfsLeft, devicesLeft));
        Assert.Contains($"Rolled back a killed transaction: disable the virtual functions of {A40}", next.Error, StringComparison.Ordinal);
        Assert.Equal(("0", "0"), (NumVfs(simulator, A40), NumVfs(simulator, SecondA40)));
        Assert.Empty(Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")));
        Assert.False(File.Exists(simulator.Join("run/mdevkit/transaction.journal")));
    }

    [Fact]
    public void ProbePlanApply_L40sInMixedSizeMode_IsAFramebufferPoolOnVendorVfio()
    {
        using var simulator = new RunningSimulator("nvidia-ada", nameof(SriovPlanningOnSimulatorTests));
        File.WriteAllText(simulator.Join($"sys/bus/pci/devices/{SecondL40S}/sriov_numvfs"), "32");
        File.WriteAllText(simulator.Join($"sys/bus/pci/devices/{SecondL40S}/sim/vgpu_heterogeneous_mode"), "1");

        var model = Probe(simulator, SecondL40S);
        // 24 + 12 + 12 GB fill the mixed GPU, leaving no room for 48 GB; the other GPU, never probed, is not planned on.
        var plan = Mdevkit(simulator, "plan", "1x nvidia-1155, 2x nvidia-1153, 1x nvidia-1156", "--json");
        File.WriteAllText(simulator.Join("plan.json"), plan.Output);
        var apply = Mdevkit(simulator, "apply", simulator.Join("plan.json"));

        Assert.Equal(("shared-pool", true, 49152, 32), (model.GetProperty("kind").GetString(), model.GetProperty("verified").GetBoolean(),
            model.GetProperty("pool").GetInt32(), model.GetProperty("slots").GetInt32()));
        Assert.Equal(3, plan.ExitCode);
        var unplaced = JsonDocument.Parse(plan.Output).RootElement.GetProperty("unplaced").EnumerateArray().Single();
        Assert.Equal("nvidia-1156", unplaced.GetProperty("type").GetString());
        Assert.Equal($"0000:82:00.0's framebuffer is full; GPU {L40S} is not planned on before it is probed (mdevkit probe {L40S})", unplaced.GetProperty("reason").GetString());
        Assert.Equal((0, ""), (apply.ExitCode, apply.Error));
        Assert.Equal(["1155", "1153", "1153"], Lines(apply).Select(line => File.ReadAllText(simulator.Join($"sys/bus/pci/devices/{line.Split(' ')[1]}/nvidia/current_vgpu_type")).Trim()));
        Assert.Equal("0", NumVfs(simulator, L40S));
    }

    [Fact]
    public void Probe_AVirtualFunctionOrABusyGpu_IsRefusedAndTouchesNothing()
    {
        using var simulator = new RunningSimulator("nvidia-mixed", nameof(SriovPlanningOnSimulatorTests));
        File.WriteAllText(simulator.Join($"sys/bus/pci/devices/{A40}/sriov_numvfs"), "4");
        Assert.Equal(0, Mdevkit(simulator, "start", "-p", "0000:41:00.5", "-t", "nvidia-563").ExitCode);

        var function = Mdevkit(simulator, "probe", "0000:41:00.4", "--yes");
        var busy = Mdevkit(simulator, "probe", A40, "--yes");

        Assert.Equal(new CommandResult(1, "", $"Error: 0000:41:00.4 is a virtual function of GPU {A40}, whose capacity its virtual functions share: probe {A40}\n"), function);
        Assert.Equal(new CommandResult(1, "", $"Error: GPU {A40} has 1 active device on its virtual functions; probing needs an idle GPU (stop them first)\n"), busy);
        Assert.False(Directory.Exists(simulator.Join("var/lib/mdevkit/capacity")));
        Assert.Single(Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")));
    }

    [Fact]
    public void Apply_APlanNamingATakenVf_IsRefusedBeforeAnythingIsMade()
    {
        using var simulator = new RunningSimulator("nvidia-ampere", nameof(SriovPlanningOnSimulatorTests));
        StoreA40Model(simulator, A40);
        File.WriteAllText(simulator.Join("plan.json"), Mdevkit(simulator, "plan", "2x nvidia-563", "--json").Output);
        // Meanwhile a 24 GB vGPU took the plan's first virtual function.
        Assert.Equal(0, Mdevkit(simulator, "start", "-p", "0000:41:00.4", "-t", "nvidia-565").ExitCode);

        var apply = Mdevkit(simulator, "apply", simulator.Join("plan.json"));

        Assert.Equal(new CommandResult(1, "", $"""
            Error: The plan no longer fits this host; plan again

            Caused by:
                0: 0000:41:00.4 is not a free virtual function of {A40}
                1: {A40} cannot hold 2x nvidia-563 beside what runs there now

            """), apply);
        Assert.Single(Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")));
    }
}
