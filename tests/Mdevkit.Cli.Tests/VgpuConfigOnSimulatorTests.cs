using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// <c>mdevkit apply --vgpu-config</c> on a host with one GPU of each NVIDIA era (0: M60, 1: A40, 2: L40S, NVIDIA's GPU
/// indexes in PCI order): the device counts per GPU are those NVIDIA's vgpu-device-manager's rules give, and where that
/// tool clears a GPU first and stops halfway, mdevkit keeps what the config wants and changes all or nothing.
/// </summary>
public sealed class VgpuConfigOnSimulatorTests : IDisposable
{
    // The simulated GPUs in NVIDIA's order, with their PCI device ids, and where their vGPUs live.
    private static readonly (string Function, int DeviceId, string Places)[] s_gpus = [("0000:3e:00.0", 0x13f2, "0000:3e:00.0"), ("0000:41:00.0", 0x2235, "0000:41:"), ("0000:81:00.0", 0x26b9, "0000:81:")];

    // The names a config uses and the type ids the simulated GPUs give them.
    private static readonly Dictionary<string, string> s_typeIds = new()
    {
        ["M60-1Q"] = "nvidia-15", ["M60-2Q"] = "nvidia-18",
        ["A40-12Q"] = "nvidia-563", ["A40-12A"] = "nvidia-573", ["A40-24Q"] = "nvidia-565",
        ["L40S-24Q"] = "nvidia-1155", ["L40S-12Q"] = "nvidia-1153",
    };

    private const string Configs = """
        version: v1
        vgpu-configs:
          start:
            - devices: [0]
              vgpu-devices: {"M60-2Q": 4}
            - devices: [1]
              vgpu-devices: {"A40-12Q": 2, "A40-12A": 2}
            - devices: [2]
              vgpu-devices: {"L40S-24Q": 2}
          resize:
            - devices: all
              device-filter: "0x223510DE"
              vgpu-devices: {"A40-24Q": 2}
            - devices: [2]
              vgpu-devices: {"L40S-24Q": 1}
          override:
            - devices: [0, 7]
              vgpu-devices: {"M60-2Q": 2}
            - devices: all
              device-filter: ["0x13F210DE"]
              vgpu-devices: {"M60-1Q": 8}
          clear:
            - devices: [1]
              vgpu-devices: {}
          too-much:
            - devices: [0]
              vgpu-devices: {"M60-1Q": 2}
            - devices: [1]
              vgpu-devices: {"A40-12Q": 2, "A40-24Q": 1}
          grow:
            - devices: [1]
              vgpu-devices: {"A40-12Q": 3}
        """;

    private readonly RunningSimulator _simulator = new("nvidia-mixed", nameof(VgpuConfigOnSimulatorTests));

    public VgpuConfigOnSimulatorTests()
    {
        File.WriteAllText(_simulator.Join("vgpu.yaml"), Configs);
    }

    public void Dispose() => _simulator.Dispose();

    private CommandResult Apply(string config) => RunningSimulator.Run("apply", "--vgpu-config", _simulator.Join("vgpu.yaml"), "--select", config, "--root", _simulator.Root);

    // Running devices: UUID, parent, type.
    private List<string[]> Running() =>
        [.. RunningSimulator.Run("list", "--root", _simulator.Root).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[..3])];

    // Per GPU index: type id → count, from what runs.
    private Dictionary<int, Dictionary<string, int>> CountsPerGpu() => Enumerable.Range(0, s_gpus.Length).ToDictionary(index => index,
        index => Running().Where(device => device[1].StartsWith(s_gpus[index].Places, StringComparison.Ordinal)).CountBy(device => device[2]).ToDictionary());

    /// <summary>
    /// vgpu-device-manager's rules as its source states them: its GPUs are NVIDIA's VGA and 3D controllers that are no
    /// virtual function, in PCI order; for each entry, each GPU that <c>devices</c> (all, or the index) and
    /// <c>device-filter</c> (the device id) select is cleared and then given the entry's vGPUs; other GPUs keep theirs.
    /// </summary>
    private static Dictionary<int, Dictionary<string, int>> VgpuDeviceManager(Dictionary<int, Dictionary<string, int>> before,
        params (int[]? Devices, int[]? Filter, Dictionary<string, int> VgpuDevices)[] entries)
    {
        var after = before.ToDictionary(gpu => gpu.Key, gpu => new Dictionary<string, int>(gpu.Value));
        foreach (var (devices, filter, vgpuDevices) in entries)
        {
            for (var index = 0; index < s_gpus.Length; index++)
            {
                if ((devices is null || devices.Contains(index)) && (filter is null || filter.Contains(s_gpus[index].DeviceId)))
                {
                    after[index] = vgpuDevices.ToDictionary(type => s_typeIds[type.Key], type => type.Value);
                }
            }
        }
        return after;
    }

    [Fact]
    public void Configs_GiveTheDeviceCountsPerGpuThatVgpuDeviceManagersRulesGive()
    {
        (string Name, (int[]?, int[]?, Dictionary<string, int>)[] Entries)[] steps =
        [
            ("start", [([0], null, new() { ["M60-2Q"] = 4 }), ([1], null, new() { ["A40-12Q"] = 2, ["A40-12A"] = 2 }), ([2], null, new() { ["L40S-24Q"] = 2 })]),
            ("resize", [(null, [0x2235], new() { ["A40-24Q"] = 2 }), ([2], null, new() { ["L40S-24Q"] = 1 })]),
            ("override", [([0, 7], null, new() { ["M60-2Q"] = 2 }), (null, [0x13f2], new() { ["M60-1Q"] = 8 })]),
            ("clear", [([1], null, [])]),
        ];
        // A full vGPU 17+ GPU lists no type it could take: what the config names is known from its probe.
        Assert.Equal(0, RunningSimulator.Run("probe", s_gpus[2].Function, "--yes", "--root", _simulator.Root).ExitCode);
        foreach (var (name, entries) in steps)
        {
            var expected = VgpuDeviceManager(CountsPerGpu(), entries);

            var apply = Apply(name);

            Assert.True(apply.ExitCode == 0, $"{name}: {apply.Error}");
            Assert.Equal(expected, CountsPerGpu());
        }
    }

    [Fact]
    public void AConfigThatDoesNotFit_LeavesEveryGpuAsItWas_WhereVgpuDeviceManagerStopsHalfway()
    {
        Assert.Equal(0, Apply("start").ExitCode);
        var before = Running();
        var vfs = File.ReadAllText(_simulator.Join("sys/bus/pci/devices/0000:41:00.0/sriov_numvfs"));

        // vgpu-device-manager would clear GPU 0 and give it two M60-1Q, then clear GPU 1, make two A40-12Q and fail on
        // the A40-24Q (one framebuffer size at a time): GPU 0 changed, GPU 1 half made, every earlier vGPU gone.
        var apply = Apply("too-much");

        Assert.Equal((1, ""), (apply.ExitCode, apply.Output));
        Assert.StartsWith("Error: ", apply.Error, StringComparison.Ordinal);
        Assert.Equal(before.Select(device => string.Join(' ', device)).Order(), Running().Select(device => string.Join(' ', device)).Order());
        Assert.Equal(vfs, File.ReadAllText(_simulator.Join("sys/bus/pci/devices/0000:41:00.0/sriov_numvfs")));
    }

    [Fact]
    public void AConfigThatAProbedGpuCannotHold_IsRefusedBeforeAnythingIsTouched()
    {
        Assert.Equal(0, RunningSimulator.Run("probe", s_gpus[1].Function, "--yes", "--root", _simulator.Root).ExitCode);
        Assert.Equal(0, Apply("start").ExitCode);
        var before = Running();

        var apply = Apply("too-much");

        Assert.Equal(new CommandResult(1, "", """
            Error: The vGPU config does not fit this host; nothing was changed

            Caused by:
                GPU 1 (0000:41:00.0) cannot hold 2x A40-12Q, 1x A40-24Q (one framebuffer size at a time)

            """), apply);
        Assert.Equal(before.Select(device => device[0]), Running().Select(device => device[0]));
    }

    [Fact]
    public void AConfigThatKeepsSomeVgpus_LeavesThemRunning_WhereVgpuDeviceManagerClearsTheGpuFirst()
    {
        Assert.Equal(0, Apply("start").ExitCode);
        var twelveQ = Running().Where(device => device[2] == "nvidia-563").Select(device => device[0]).ToList();
        var elsewhere = Running().Where(device => !device[1].StartsWith("0000:41:", StringComparison.Ordinal)).Select(device => device[0]).ToList();

        var apply = Apply("grow");

        Assert.Equal(0, apply.ExitCode);
        var lines = apply.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, line => line.EndsWith(" nvidia-563", StringComparison.Ordinal));
        Assert.Equal(2, lines.Count(line => line.EndsWith(" nvidia-573 stopped", StringComparison.Ordinal)));
        var running = Running().Select(device => device[0]).ToList();
        Assert.All(twelveQ.Concat(elsewhere), uuid => Assert.Contains(uuid, running));
        Assert.Equal(new Dictionary<string, int> { ["nvidia-563"] = 3 }, CountsPerGpu()[1]);
    }

    [Fact]
    public void BadYamlOrAMissingSelection_IsOneErrorLineNamingWhere()
    {
        File.WriteAllText(_simulator.Join("bad.yaml"), "version: v1\nvgpu-configs:\n  a:\n    - devices: [0]\n      vgpu-devices: {\"M60-2Q\": -1}\n");

        var bad = RunningSimulator.Run("apply", "--vgpu-config", _simulator.Join("bad.yaml"), "--root", _simulator.Root);
        var unselected = RunningSimulator.Run("apply", "--vgpu-config", _simulator.Join("vgpu.yaml"), "--root", _simulator.Root);

        Assert.Equal(new CommandResult(1, "", $"Error: {_simulator.Join("bad.yaml")}:5:32: the count of M60-2Q must be a whole number\n"), bad);
        Assert.Equal(new CommandResult(1, "", $"Error: {_simulator.Join("vgpu.yaml")}: it has 6 vgpu-configs; choose one with --select (clear, grow, override, resize, start, too-much)\n"), unselected);
        Assert.Empty(Running());
    }
}
