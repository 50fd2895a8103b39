using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;
using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>Many processes at once, who is calling, and unmounting under a reader.</summary>
public sealed class RobustnessTests
{
    [Fact]
    public void ManyShellWritersRacingForTheLastInstances_ExactlyTheCapacitySucceeds()
    {
        using var mounted = new MountedHost("samples", nameof(RobustnessTests));

        // 48 processes, each writing its own UUID at once into a type with room for 12.
        var result = mounted.Bash("""
            for i in $(seq 10 57); do
              (echo 00000000-0000-0000-0000-0000000000$i > sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create 2>/dev/null && echo created || echo refused) &
            done
            wait
            """);

        var outcomes = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).CountBy(line => line).ToDictionary();
        Assert.Equal(new Dictionary<string, int> { ["created"] = 12, ["refused"] = 36 }, outcomes);
        Assert.Equal(12, mounted.Host.Core.Devices.Count);
        Assert.Equal("0\n", File.ReadAllText(mounted.Join("sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/available_instances")));
    }

    [Fact]
    public void Write_ReachesTheStoreWithTheCallingProcessAndUser()
    {
        var tree = new SysfsTree();
        var callers = new List<Caller>();
        tree.CreateAttribute(tree.EnsureDirectory("sys"), "probe", SysfsAttribute.ReadWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite,
            show: () => "\n", store: (_, caller) => { lock (callers) { callers.Add(caller); } return Errno.None; });
        using var root = new TempRoot(nameof(RobustnessTests));
        Directory.CreateDirectory(root.Join("sys"));
        using var mount = FuseMount.Mount(tree, "sys", root.Join("sys"), MountedHost.Warn);

        var asRoot = CommandRunner.Run("bash", ["-c", "echo x > \"$0\" && echo $$", root.Join("sys/probe")]);
        var asNobody = CommandRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c", "echo x > \"$0\" && echo $$", root.Join("sys/probe")]);

        Assert.Equal([new Caller(int.Parse(asRoot.Output), 0, 0), new Caller(int.Parse(asNobody.Output), 65534, 65534)], callers);
    }

    [Fact]
    public void Unmount_WhileAReaderHoldsAFileOpen_DetachesAndTheReaderGetsAnError() => UnmountUnderAReader(_ => { });

    /// <summary>
    /// Unmounts while a reader holds a file open: the mount is detached, stops serving, and the reader's next
    /// read fails. <paramref name="served"/> looks at the mount before it goes.
    /// </summary>
    internal static void UnmountUnderAReader(Action<FuseMount> served)
    {
        var mounted = new MountedHost("samples", nameof(RobustnessTests));
        var path = mounted.Join("sys/class/mdev_bus/mdpy/mdev_supported_types/mdpy-vga/available_instances");
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        served(mounted.Mount);

        mounted.Dispose();

        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), line => line.Contains(mounted.Root, StringComparison.Ordinal));
        Assert.True(mounted.Mount.Ended.IsCompleted);
        Assert.ThrowsAny<IOException>(() => reader.ReadByte());
    }
}
