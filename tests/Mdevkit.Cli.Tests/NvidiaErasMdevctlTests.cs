using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// mdev tools on a host with one GPU of each NVIDIA era, inside <c>sim exec</c>: Debian's mdevctl and mdevkit as
/// <c>mdevctl</c> see the Ampere virtual functions as ordinary parents and the vGPU 17+ GPU not at all.
/// </summary>
public sealed class NvidiaErasMdevctlTests
{
    private const string Uuid = "11111111-2222-3333-4444-555555555555";
    private const string EnableVfs = "echo 2 > /sys/bus/pci/devices/0000:41:00.0/sriov_numvfs && echo 2 > /sys/bus/pci/devices/0000:81:00.0/sriov_numvfs";

    [Fact]
    public void Types_BothMdevctls_ListTheM60AndTheA40sVfsOnly()
    {
        using var simulator = new RunningSimulator("nvidia-mixed", nameof(NvidiaErasMdevctlTests));
        Directory.CreateDirectory(simulator.Join("bin"));
        File.CreateSymbolicLink(simulator.Join("bin/mdevctl"), RunningSimulator.Mdevkit);

        var debian = simulator.ExecBash($"{EnableVfs} && /usr/bin/mdevctl types");
        var ours = simulator.Exec(simulator.Join("bin/mdevctl"), "types");

        Assert.Equal(0, debian.ExitCode);
        Assert.Equal(new CommandResult(0, debian.Output[..^1], debian.Error), ours);
        Assert.Equal(["0000:3e:00.0", "0000:41:00.4", "0000:41:00.5"], ours.Output.Split('\n').Where(line => line.Length > 0 && !char.IsWhiteSpace(line[0])));
        Assert.Contains("  nvidia-563\n    Available instances: 1\n    Device API: vfio-pci\n    Name: NVIDIA A40-12Q\n", ours.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void DebiansMdevctl_StartsAVgpuOnAnAmpereVf_AndTheSiblingsFollowThePf()
    {
        using var simulator = new RunningSimulator("nvidia-mixed", nameof(NvidiaErasMdevctlTests));

        var result = simulator.ExecBash($"""
            {EnableVfs} && mdevctl start -p 0000:41:00.4 -t nvidia-563 -u {Uuid} && mdevctl list &&
            cat /sys/class/mdev_bus/0000:41:00.5/mdev_supported_types/{"{"}nvidia-563,nvidia-562{"}"}/available_instances
            """);

        Assert.Equal(new CommandResult(0, $"{Uuid} 0000:41:00.4 nvidia-563 manual\n\n1\n0\n", ""), result);
    }
}
