using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// The mdev commands under the <c>mdevkit</c> name on a host with one GPU of each NVIDIA era: the vGPU 17+ GPU's virtual
/// functions are parents like any other, with <c>nvidia-&lt;id&gt;</c> types, while under the <c>mdevctl</c> name they stay unseen.
/// </summary>
public sealed class NvidiaErasMdevkitTests : IDisposable
{
    private const string L40S = "sys/bus/pci/devices/0000:81:00.0";
    private const string Vf0 = "0000:81:00.4";
    private const string Vf1 = "0000:81:00.5";
    private const string Uuid = "11111111-2222-3333-4444-555555555555";
    private readonly RunningSimulator _simulator = new("nvidia-mixed", nameof(NvidiaErasMdevkitTests));

    public NvidiaErasMdevkitTests()
    {
        EnableVfs(2);
    }

    public void Dispose() => _simulator.Dispose();

    private void EnableVfs(int count) => File.WriteAllText(_simulator.Join($"{L40S}/sriov_numvfs"), $"{count}");

    private string CurrentType(string vf) => File.ReadAllText(_simulator.Join($"sys/bus/pci/devices/{vf}/nvidia/current_vgpu_type"));

    private CommandResult Mdevkit(params string[] arguments) => RunningSimulator.Run([.. arguments, "--root", _simulator.Root]);

    private CommandResult Mdevctl(params string[] arguments)
    {
        var mdevctl = _simulator.Join("bin/mdevctl");
        if (!File.Exists(mdevctl))
        {
            Directory.CreateDirectory(_simulator.Join("bin"));
            File.CreateSymbolicLink(mdevctl, RunningSimulator.Mdevkit);
        }
        return CommandRunner.Run(mdevctl, arguments, environment: new Dictionary<string, string> { ["MDEVCTL_ENV_ROOT"] = _simulator.Root });
    }

    private static string[] Parents(CommandResult types) => [.. types.Output.Split('\n').Where(line => line.Length > 0 && !char.IsWhiteSpace(line[0]))];

    [Fact]
    public void Types_ShowTheVfSlotsWithWhatTheyCanTakeNow_OnlyUnderTheMdevkitName()
    {
        var types = Mdevkit("types", "-p", Vf0);

        Assert.Equal(["0000:3e:00.0", Vf0, Vf1], Parents(Mdevkit("types")));
        Assert.Equal(["0000:3e:00.0"], Parents(Mdevctl("types")));
        Assert.StartsWith($"{Vf0}\n  nvidia-1145\n    Available instances: 1\n    Device API: vfio-pci\n    Name: NVIDIA L40S-1B\n", types.Output, StringComparison.Ordinal);
        Assert.Equal(22, types.Output.Split('\n').Count(line => line.StartsWith("  nvidia-", StringComparison.Ordinal)));
    }

    [Fact]
    public void StartListStop_WriteCurrentVgpuType_AndNameTheVgpuByItsUuid()
    {
        var start = Mdevkit("start", "-p", Vf0, "-t", "nvidia-1155", "-u", Uuid);
        var list = Mdevkit("list");
        var sibling = Mdevkit("types", "-p", Vf1);
        var busy = Mdevkit("types", "-p", Vf0);
        var mdevctlList = Mdevctl("list");
        var current = CurrentType(Vf0);
        var stop = Mdevkit("stop", "-u", Uuid);

        Assert.Equal(new CommandResult(0, "", ""), start);
        Assert.Equal(new CommandResult(0, $"{Uuid} {Vf0} nvidia-1155 manual\n", ""), list);
        Assert.Equal(["  nvidia-1155", "  nvidia-1165"], sibling.Output.Split('\n').Where(line => line.StartsWith("  nvidia-", StringComparison.Ordinal)));
        Assert.Equal($"{Vf0}\n  nvidia-1155\n    Available instances: 0\n    Device API: vfio-pci\n", busy.Output);
        Assert.Equal(new CommandResult(0, "", ""), mdevctlList);
        Assert.Equal("1155\n", current);
        Assert.Equal(new CommandResult(0, "", ""), stop);
        Assert.Equal("0\n", CurrentType(Vf0));
        Assert.Empty(Mdevkit("list").Output);
    }

    [Fact]
    public void Start_ATypeThatDoesNotFitNow_FailsAndChangesNothing()
    {
        Assert.Equal(0, Mdevkit("start", "-p", Vf0, "-t", "nvidia-1155").ExitCode);

        var result = Mdevkit("start", "-p", Vf1, "-t", "nvidia-1156", "-u", Uuid);

        Assert.Equal(new CommandResult(1, "", $"Error: Parent {Vf1} does not support mdev type nvidia-1156\n"), result);
        Assert.Equal("0\n", CurrentType(Vf1));
    }

    [Fact]
    public void DefineAuto_SurvivesAReboot_AndStartsAgainOnceTheVfsAreBack()
    {
        var define = Mdevkit("define", "-p", Vf1, "-t", "nvidia-1165", "-u", Uuid, "--auto");
        var definition = File.ReadAllText(_simulator.Join($"etc/mdevctl.d/{Vf1}/{Uuid}"));
        Assert.Equal(0, _simulator.Control("reboot").ExitCode);
        var afterReboot = (Mdevkit("list", "-d").Output, Mdevkit("list").Output);
        EnableVfs(2);

        // nvidia binding the VF is the event mdevkit's udev rule starts the VF's devices on; the simulator runs the
        // same command for it, a moment after the write.
        Assert.True(SpinWait.SpinUntil(() => CurrentType(Vf1) == "1165\n", TimeSpan.FromSeconds(30)), File.ReadAllText(_simulator.Join("run/mdevkit/sim.log")));
        Assert.Equal(0, define.ExitCode);
        Assert.Contains("\"mdev_type\": \"nvidia-1165\"", definition, StringComparison.Ordinal);
        Assert.Equal(($"{Uuid} {Vf1} nvidia-1165 auto\n", ""), afterReboot);
        Assert.Equal($"{Uuid} {Vf1} nvidia-1165 auto (defined)\n", Mdevkit("list").Output);
        Assert.Equal("1165\n", CurrentType(Vf1));
    }

    [Fact]
    public void Reboot_ForgetsTheNamesOfVgpusThatRan_AsTheTmpfsUnderRunIsGone()
    {
        Assert.Equal(0, Mdevkit("start", "-p", Vf0, "-t", "nvidia-1155", "-u", Uuid).ExitCode);
        var record = _simulator.Join($"run/mdevkit/vgpus/{Vf0}");
        var recordedBefore = File.Exists(record);

        Assert.Equal(0, _simulator.Control("reboot").ExitCode);

        Assert.True(recordedBefore);
        Assert.False(File.Exists(record));
        Assert.Empty(Mdevkit("list").Output);
    }

    [Fact]
    public void StartAfterAReboot_EnablesAllTheGpusVfsFirst_OnlyUnderTheMdevkitName()
    {
        Assert.Equal(0, Mdevkit("define", "-p", Vf1, "-t", "nvidia-1165", "-u", Uuid).ExitCode);
        Assert.Equal(0, _simulator.Control("reboot").ExitCode);

        var asMdevctl = Mdevctl("start", "-u", Uuid);
        var vfsAfterMdevctl = File.ReadAllText(_simulator.Join($"{L40S}/sriov_numvfs"));
        var asMdevkit = Mdevkit("start", "-u", Uuid);

        Assert.Equal(new CommandResult(1, "", $"Error: Unable to find parent device '{Vf1}'\n"), asMdevctl);
        Assert.Equal("0\n", vfsAfterMdevctl);
        Assert.Equal(new CommandResult(0, "", ""), asMdevkit);
        Assert.Equal("32\n", File.ReadAllText(_simulator.Join($"{L40S}/sriov_numvfs")));
        Assert.Equal("1165\n", CurrentType(Vf1));
        Assert.Equal("0\n", File.ReadAllText(_simulator.Join("sys/bus/pci/devices/0000:41:00.0/sriov_numvfs")));
    }

    [Fact]
    public void Hostdev_OfAVgpuOnAVf_IsTheVfAsAnUnmanagedPciHostdev()
    {
        Assert.Equal(0, Mdevkit("start", "-p", Vf1, "-t", "nvidia-1155", "-u", Uuid).ExitCode);

        var hostdev = Mdevkit("hostdev", Uuid);

        Assert.Equal(new CommandResult(0, """
            <hostdev mode='subsystem' type='pci' managed='no'>
              <source>
                <address domain='0x0000' bus='0x81' slot='0x00' function='0x5'/>
              </source>
            </hostdev>

            """, ""), hostdev);
        Assert.Null(Xmllint.Check(Xmllint.InDomain(hostdev.Output), "domain.rng"));
    }

    [Fact]
    public void AVgpuMadeOutsideMdevkit_IsListedUnderOneUuidDerivedFromItsVf_AndStopsByIt()
    {
        File.WriteAllText(_simulator.Join($"sys/bus/pci/devices/{Vf1}/nvidia/current_vgpu_type"), "1150");

        var first = Mdevkit("list").Output;
        var second = Mdevkit("list").Output;
        var uuid = first.Split(' ')[0];

        Assert.Equal(first, second);
        Assert.EndsWith($" {Vf1} nvidia-1150 manual\n", first, StringComparison.Ordinal);
        Assert.Equal('5', uuid[14]);
        Assert.Equal(new CommandResult(0, "", ""), Mdevkit("stop", "-u", uuid));
        Assert.Equal("0\n", CurrentType(Vf1));
    }
}
