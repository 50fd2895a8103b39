using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;
using Mdevkit.TestSupport;

namespace Mdevkit.SimHost.Tests;

/// <summary>The simulator's host in this process: a real FUSE mount and control socket, driven through its client.</summary>
public sealed class SimServiceTests : IDisposable
{
    private readonly TempRoot _scratch = new(nameof(SimServiceTests));
    private readonly StringWriter _log = new();

    public void Dispose() => _scratch.Dispose();

    private SimRoot Root => new(_scratch.Join("root"));

    private SimService Start(IReadOnlyList<string>? autostart = null) =>
        SimService.Start(HostProfile.Load("samples"), Root, TextWriter.Synchronized(_log), autostart ?? ["false"]);

    [Fact]
    public void ControlRequests_ChangeTheMountedHost_AndDownStopsIt()
    {
        using (var service = Start())
        {
            var status = SimControl.Send(Root, "status");
            SimControl.Send(Root, "hotplug remove mtty");
            var unplugged = Directory.Exists(Path.Join(Root.Sys, "class/mdev_bus/mtty"));
            var unknown = Assert.Throws<SimException>(() => SimControl.Send(Root, "hotplug add nosuch"));
            SimControl.Send(Root, "down");

            Assert.Equal(["profile samples", $"pid {Environment.ProcessId}", $"root {Root.Directory}", "parent mbochs present", "parent mdpy present", "parent mtty present"], status);
            Assert.False(unplugged);
            Assert.Equal("no parent device 'nosuch' in this host", unknown.Message);
            Assert.True(service.Stopped.IsCompleted);
            Assert.Contains("uevent: remove", _log.ToString(), StringComparison.Ordinal);
        }

        Assert.False(MountTable.IsMountPoint(Root.Sys));
        Assert.False(File.Exists(Root.Socket));
    }

    [Fact]
    public async Task ARegisteredParentWithDefinitions_GetsUdevsAutostart()
    {
        var called = _scratch.Join("autostart.fifo");
        CommandRunner.Run("mkfifo", [called]);
        Directory.CreateDirectory(Path.Join(Root.ConfigDirectory, "mtty"));
        using var service = Start(["sh", "-c", "echo \"$*\" > \"$0\"", called]);

        SimControl.Send(Root, "hotplug remove mtty");
        SimControl.Send(Root, "hotplug add mtty");
        // The script writes once it runs; reading the FIFO waits for it, and the timeout turns a missing call into a failure.
        var line = await File.ReadAllTextAsync(called, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal($"mtty --root {Root.Directory}\n", line);
    }

    [Fact]
    public void RotatingLog_WritesALineSoon_WithoutBeingFlushed()
    {
        var path = _scratch.Join("sim.log");
        using var log = new RotatingLog(path, isStandardError: false);

        log.WriteLine("uevent: add@/devices/virtual/mtty/mtty/x");

        // The timer writes it within FlushInterval; the limit only bounds a failure.
        Assert.True(SpinWait.SpinUntil(() => new FileInfo(path).Length > 0, TimeSpan.FromSeconds(10)));
        Assert.Equal("uevent: add@/devices/virtual/mtty/mtty/x\n", File.ReadAllText(path));
    }

    [Fact]
    public void RotatingLog_KeepsOneOldFile_AndNeitherPastTheCap()
    {
        var path = _scratch.Join("sim.log");
        var line = new string('x', 1023);

        using (var log = new RotatingLog(path, isStandardError: false))
        {
            for (var i = 0; i < 3 * 1024 + 10; i++)
            {
                log.WriteLine(line);
            }
        }

        Assert.InRange(new FileInfo(path).Length, 1, RotatingLog.Cap);
        // Lines are written 64 KiB at a time here, and a batch that would pass the cap starts the new file.
        Assert.InRange(new FileInfo(path + ".1").Length, RotatingLog.Cap - RotatingLog.EagerBytes, RotatingLog.Cap);
        Assert.Equal([path, path + ".1"], Directory.GetFiles(_scratch.Path).Order(StringComparer.Ordinal));
    }
}
