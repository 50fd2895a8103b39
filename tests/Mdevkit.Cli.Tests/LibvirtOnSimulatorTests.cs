using System.Text.Json;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// libvirt's node-device driver as it drives mdevctl, step by step, with mdevkit under the name
/// <c>mdevctl</c> on a mounted simulated host (<c>MDEVCTL_ENV_ROOT</c>): devices really appear in and
/// vanish from the simulated kernel, and what libvirt parses is there.
/// </summary>
public sealed class LibvirtOnSimulatorTests : IDisposable
{
    private readonly RunningSimulator _simulator = new("default", nameof(LibvirtOnSimulatorTests));
    private readonly string _mdevctl;

    public LibvirtOnSimulatorTests()
    {
        _mdevctl = _simulator.Join("bin/mdevctl");
        Directory.CreateDirectory(_simulator.Join("bin"));
        File.CreateSymbolicLink(_mdevctl, RunningSimulator.Mdevkit);
    }

    public void Dispose() => _simulator.Dispose();

    private CommandResult Mdevctl(string? stdin, params string[] args) =>
        CommandRunner.Run(_mdevctl, args, stdin, new Dictionary<string, string> { ["MDEVCTL_ENV_ROOT"] = _simulator.Root });

    private bool IsActive(string uuid) => Directory.Exists(_simulator.Join($"sys/bus/mdev/devices/{uuid}"));

    [Fact]
    public void DefineStartDestroyUndefine_AsVirNodeDeviceCalls()
    {
        var probe = Mdevctl(null, "modify", "--defined", "--live", "--jsonfile", "b", "--help");
        var define = Mdevctl("""{"mdev_type":"i915-GVTg_V5_4","start":"manual"}""", "define", "--parent=0000:00:02.0", "--jsonfile=/dev/stdin");
        var uuid = define.Output.Trim();
        var defined = Mdevctl(null, "list", "--dumpjson", "--defined");
        var redefine = Mdevctl("""{"mdev_type":"i915-GVTg_V5_4","start":"manual"}""", "modify", "--parent=0000:00:02.0", "--jsonfile=/dev/stdin", $"--uuid={uuid}", "--defined");
        var autostart = Mdevctl(null, "modify", "--uuid", uuid, "--auto");
        var start = Mdevctl(null, "start", $"--uuid={uuid}");
        var startedInKernel = IsActive(uuid);
        var active = Mdevctl(null, "list", "--dumpjson");
        var destroy = Mdevctl(null, "stop", $"--uuid={uuid}");
        var stoppedInKernel = !IsActive(uuid);
        var undefine = Mdevctl(null, "undefine", $"--uuid={uuid}");

        Assert.Equal(0, probe.ExitCode);
        Assert.Equal((0, ""), (define.ExitCode, define.Error));
        Assert.True(Guid.TryParse(uuid, out _), define.Output);
        Assert.Equal([("0000:00:02.0", uuid, "i915-GVTg_V5_4", "manual")], ParseAsLibvirtDoes(defined.Output));
        Assert.Equal(new CommandResult(0, "", ""), redefine);
        Assert.Equal(new CommandResult(0, "", ""), autostart);
        Assert.Equal((new CommandResult(0, "", ""), true), (start, startedInKernel));
        Assert.Equal([("0000:00:02.0", uuid, "i915-GVTg_V5_4", "auto")], ParseAsLibvirtDoes(active.Output));
        Assert.Equal((new CommandResult(0, "", ""), true), (destroy, stoppedInKernel));
        Assert.Equal(new CommandResult(0, "", ""), undefine);
        Assert.Equal(new CommandResult(0, "[]", ""), Mdevctl(null, "list", "--dumpjson", "--defined"));
    }

    [Fact]
    public void CreateTransient_FromStdin_PrintsTheUuidOfARealDevice()
    {
        var create = Mdevctl("""{"mdev_type":"nvidia-12","start":"manual"}""", "start", "--parent=0000:3e:00.0", "--jsonfile=/dev/stdin");
        var uuid = create.Output.Trim();

        Assert.Equal((0, ""), (create.ExitCode, create.Error));
        Assert.True(IsActive(uuid));
        Assert.Equal("0\n", File.ReadAllText(_simulator.Join("sys/class/mdev_bus/0000:3e:00.0/mdev_supported_types/nvidia-11/available_instances")));
    }

    [Fact]
    public void DefineWithAttributes_ThenStart_WritesThemToTheDeviceInOrder()
    {
        const string Uuid = "783e6dbb-ea0e-411f-94e2-717eaad438bf";
        var config = """{"mdev_type":"vfio_ap-passthrough","start":"manual","attrs":[{"assign_adapter":"5"},{"assign_domain":"0x47"},{"assign_control_domain":"0x47"}]}""";

        var define = Mdevctl(config, "define", "--parent=matrix", "--jsonfile=/dev/stdin", $"--uuid={Uuid}");
        var start = Mdevctl(null, "start", $"--uuid={Uuid}");

        Assert.Equal(new CommandResult(0, "", ""), define);
        Assert.Equal(new CommandResult(0, "", ""), start);
        Assert.Equal("05.0047\n", File.ReadAllText(_simulator.Join($"sys/bus/mdev/devices/{Uuid}/matrix")));
    }

    [Fact]
    public void StartOfAFullType_FailsWithTheKernelsError_AndLeavesNothing()
    {
        var first = Mdevctl("""{"mdev_type":"vfio_ccw-io","start":"manual"}""", "start", "--parent=0.0.0123", "--jsonfile=/dev/stdin");
        var second = Mdevctl("""{"mdev_type":"vfio_ccw-io","start":"manual"}""", "start", "--parent=0.0.0123", "--jsonfile=/dev/stdin");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(1, second.ExitCode);
        Assert.StartsWith("Error: ", second.Error, StringComparison.Ordinal);
        Assert.Single(Directory.GetFileSystemEntries(_simulator.Join("sys/bus/mdev/devices")));
    }

    // What nodeDeviceParseMdevctlJSON accepts: one array element, parents mapping to single-key objects.
    private static List<(string Parent, string Uuid, string Type, string Start)> ParseAsLibvirtDoes(string json)
    {
        using var document = JsonDocument.Parse(json);
        var element = Assert.Single(document.RootElement.EnumerateArray().ToArray());
        return [.. from parent in element.EnumerateObject()
                   from device in parent.Value.EnumerateArray()
                   let entry = Assert.Single(device.EnumerateObject().ToArray())
                   select (parent.Name, entry.Name, entry.Value.GetProperty("mdev_type").GetString()!, entry.Value.GetProperty("start").GetString()!)];
    }
}
