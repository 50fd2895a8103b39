using System.Collections.Concurrent;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>Roots that change underneath a command or were laid out to mislead it: nothing crashes, hangs or escapes.</summary>
public sealed class HostileRootTests : IDisposable
{
    private const string Parent = "0000:00:02.0";
    private const string Gpu = $"sys/devices/pci0000:00/{Parent}";
    private const string Uuid = "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9";
    private readonly TempRoot _root = new(nameof(HostileRootTests));

    public HostileRootTests()
    {
        foreach (var directory in new[] { "etc/mdevctl.d", "usr/lib/mdevctl/scripts.d/callouts", "usr/lib/mdevctl/scripts.d/notifiers" })
        {
            Directory.CreateDirectory(_root.Join(directory));
        }
        _root.Parent(Gpu, Parent);
        _root.Type(Gpu, "i915-GVTg_V5_4", 5, "vfio-pci", null, null);
    }

    // A separate process, so that a listing that blocks fails the test instead of hanging the suite.
    private CommandResult Mdevkit(params string[] args) =>
        CommandRunner.Run(RunningSimulator.Mdevkit, [.. args, "--root", _root.Path], timeout: TimeSpan.FromMinutes(1));

    [Fact]
    public void ListDefinedAndStartParentMdevs_FifoAndDanglingLinkNamedLikeUuids_AreSkippedWithWarnings()
    {
        _root.File($"etc/mdevctl.d/{Parent}/{Uuid}", """{"mdev_type":"i915-GVTg_V5_4","start":"manual","attrs":[]}""");
        var fifo = _root.Join($"etc/mdevctl.d/{Parent}/11111111-2222-3333-4444-555555555555");
        Assert.Equal(0, CommandRunner.Run("mkfifo", [fifo]).ExitCode);
        _root.Link($"etc/mdevctl.d/{Parent}/22222222-2222-3333-4444-555555555555", "deleted");
        var link = _root.Join($"etc/mdevctl.d/{Parent}/22222222-2222-3333-4444-555555555555");

        var list = Mdevkit("list", "-d");
        var startParent = Mdevkit("start-parent-mdevs", Parent);

        Assert.Equal((0, $"{Uuid} {Parent} i915-GVTg_V5_4 manual\n"), (list.ExitCode, list.Output));
        foreach (var result in new[] { list, startParent })
        {
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(
                [$"Skipping '{fifo}': not a regular file, so not a definition", $"Skipping '{link}': not a regular file, so not a definition"],
                result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..]));
        }
    }

    [Fact]
    public void Define_ParentDirectoryIsSymbolicLink_IsRefused()
    {
        Directory.CreateDirectory(_root.Join("outside"));
        _root.Link($"etc/mdevctl.d/{Parent}", "../../outside");

        var define = CliRunner.Run("mdevkit", "define", "-u", Uuid, "-p", Parent, "-t", "i915-GVTg_V5_4", "--root", _root.Path);

        Assert.Equal(
            (1, "", $"Error: Refusing to write through '{_root.Join($"etc/mdevctl.d/{Parent}")}': it is a symbolic link (to '../../outside'), and definitions are written only to directories inside '{_root.Join("etc/mdevctl.d")}'\n"),
            define);
        Assert.Empty(Directory.GetFileSystemEntries(_root.Join("outside")));
    }

    [Fact]
    public void Start_AttributesReachedThroughDeviceLinks_AreRefusedAndTouchNothingElse()
    {
        using var simulator = new RunningSimulator("samples", nameof(HostileRootTests));
        const string Other = "bbbbbbbb-0000-0000-0000-000000000000";
        const string Created = "cccccccc-0000-0000-0000-000000000000";
        const string Removing = "aaaaaaaa-0000-0000-0000-000000000001";
        const string Creating = "aaaaaaaa-0000-0000-0000-000000000002";
        string[] OnRoot(params string[] args) => [.. args, "--root", simulator.Root];
        Assert.Equal(0, RunningSimulator.Run(OnRoot("start", "-u", Other, "-p", "mtty", "-t", "mtty-1")).ExitCode);
        var results = new[] { (Removing, $"driver/{Other}/remove", "1"), (Creating, "mdev_type/create", Created) }.Select(device =>
        {
            var json = simulator.Join($"{device.Item1}.json");
            File.WriteAllText(json, $$"""{"mdev_type":"mtty-1","start":"manual","attrs":[{"{{device.Item2}}":"{{device.Item3}}"}]}""");
            Assert.Equal(0, RunningSimulator.Run(OnRoot("define", "-u", device.Item1, "-p", "mtty", "--jsonfile", json)).ExitCode);
            return (device.Item2, RunningSimulator.Run(OnRoot("start", "-u", device.Item1)));
        }).ToArray();

        foreach (var (attribute, start) in results)
        {
            Assert.Equal(
                new CommandResult(1, "", $"Error: Invalid attribute '{attribute}': it is reached through a symbolic link, and an attribute is a file of the device's own directory\n"),
                start);
        }
        Assert.Equal([Other], Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task TypesAndList_WhileParentIsUnpluggedAndReplugged_NeverFail()
    {
        using var simulator = new RunningSimulator("samples", nameof(HostileRootTests));
        var hotplugs = new ConcurrentQueue<CommandResult>();
        var plugging = Task.Run(() =>
        {
            for (var cycle = 0; cycle < 25; cycle++)
            {
                hotplugs.Enqueue(simulator.Control("hotplug", "remove", "mtty"));
                hotplugs.Enqueue(simulator.Control("hotplug", "add", "mtty"));
            }
        }, TestContext.Current.CancellationToken);
        var failures = new List<string>();
        var rounds = 0;

        while (!plugging.IsCompleted)
        {
            foreach (var command in new[] { "types", "list" })
            {
                var (exit, _, error) = CliRunner.Run("mdevkit", command, "--root", simulator.Root);
                if (exit != 0)
                {
                    failures.Add($"{command}: {error}");
                }
            }
            rounds++;
        }
        await plugging;

        Assert.All(hotplugs, hotplug => Assert.Equal(0, hotplug.ExitCode));
        Assert.Empty(failures);
        Assert.True(rounds > 0);
    }

    public void Dispose() => _root.Dispose();
}
