using System.Diagnostics;
using Mdevkit.TestSupport;

namespace Mdevkit.Sysfs.Tests;

/// <summary>
/// Holders of a root's VFIO nodes, found in the machine's /proc: this process and real child processes open files at a
/// fixture root's <c>dev/vfio</c>, laid out as the kernel names its nodes.
/// </summary>
public sealed class VfioHolderTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(VfioHolderTests));
    private readonly SysfsRoot _sysfs;

    public VfioHolderTests()
    {
        foreach (var node in new[] { "dev/vfio/7", "dev/vfio/12", "dev/vfio/vfio", "dev/vfio/devices/vfio3", "dev/other/7" })
        {
            _root.File(node, "");
        }
        _root.File("sys/devices/pci0000:00/0000:81:00.4/vfio-dev/vfio3/dev", "511:3\n");
        _root.Link("sys/class/vfio-dev/vfio3", "../../devices/pci0000:00/0000:81:00.4/vfio-dev/vfio3");
        _sysfs = new SysfsRoot(_root.Path);
    }

    public void Dispose() => _root.Dispose();

    private FileStream Open(string node) => new(_root.Join(node), FileMode.Open, FileAccess.Read);

    [Fact]
    public void GetVfioHolders_NamesGroupsAndCharacterDevices_HeldByThisProcess()
    {
        var command = File.ReadAllText("/proc/self/comm").TrimEnd('\n');
        using var group = Open("dev/vfio/12");
        using var device = Open("dev/vfio/devices/vfio3");
        // Neither the container nor a node of another directory is a device's.
        using var container = Open("dev/vfio/vfio");
        using var other = Open("dev/other/7");

        var holders = _sysfs.GetVfioHolders();

        Assert.Equal(["12", "devices/vfio3"], holders.Keys.Order(StringComparer.Ordinal));
        Assert.All(holders.Values, holder => Assert.Equal((Environment.ProcessId, command), (holder.Pid, holder.Command)));
        Assert.Equal(File.ReadAllText("/proc/self/cmdline").Split('\0')[..^1], holders["12"].Arguments);
    }

    [Fact]
    public void GetVfioHolders_OfAnotherRoot_AreNotThisRootsHolders()
    {
        using var held = Open("dev/vfio/7");

        Assert.Empty(new SysfsRoot(_root.Join("sys")).GetVfioHolders());
        Assert.Equal(["7"], _sysfs.GetVfioHolders().Keys);
    }

    [Fact]
    public async Task GetVfioHolders_PassesOverProcessesThatComeAndGo()
    {
        // Short-lived processes start and exit while /proc is walked: their entries vanish mid-scan.
        using var churn = new CancellationTokenSource();
        var churning = Task.Run(() =>
        {
            while (!churn.IsCancellationRequested)
            {
                using var brief = Process.Start(new ProcessStartInfo("true"))!;
                brief.WaitForExit();
            }
        }, TestContext.Current.CancellationToken);
        try
        {
            using var held = Open("dev/vfio/7");
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(Environment.ProcessId, _sysfs.GetVfioHolders()["7"].Pid);
            }
        }
        finally
        {
            churn.Cancel();
            await churning;
        }
    }

    [Fact]
    public void GetVfioDeviceFunction_IsTheFunctionOfItsClassDevice()
    {
        Assert.Equal("0000:81:00.4", _sysfs.GetVfioDeviceFunction("vfio3"));
        Assert.Null(_sysfs.GetVfioDeviceFunction("vfio4"));
        Assert.Null(_sysfs.GetVfioDeviceFunction("../vfio3"));
    }
}
