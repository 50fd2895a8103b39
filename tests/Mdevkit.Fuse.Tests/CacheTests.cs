
namespace Mdevkit.Fuse.Tests;

/// <summary>
/// The kernel keeps the mount's entries, attributes and link texts: each test first makes it hold what a change
/// of the model then makes stale, and the very next look must see the change, whoever made it.
/// </summary>
public sealed class CacheTests : KernelCacheTests;

/// <summary>The same, with the requests served over io_uring.</summary>
[Collection(FuseOverIoUring.Collection)]
public sealed class CacheOverIoUringTests : KernelCacheTests
{
    [Fact]
    public void Mount_IsServedOverIoUring()
    {
        Assert.Equal(0, Mounted.Bash("ls sys/class/mdev_bus").ExitCode);

        FuseOverIoUring.AssertServes(Mounted.Mount);
    }
}

/// <summary>What <see cref="CacheTests"/> checks, on whichever transport the kernel runs the mount.</summary>
public abstract class KernelCacheTests : IDisposable
{
    private const string Uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
    private const string Device = $"sys/bus/mdev/devices/{Uuid}";
    private const string MttyTypes = "sys/class/mdev_bus/mtty/mdev_supported_types";
    private const string MdpyTypes = "sys/class/mdev_bus/mdpy/mdev_supported_types";
    private const string Missing = "No such file or directory";
    private readonly MountedHost _mounted = new("samples", nameof(CacheTests));

    private protected MountedHost Mounted => _mounted;

    public void Dispose()
    {
        _mounted.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void DeviceCreatedInTheModel_IsFoundByTheNextStatAndListing_AfterTheKernelLookedForItInVain()
    {
        var before = _mounted.Bash($"stat -c %F {Device} {MttyTypes}/mtty-1/devices/{Uuid}");

        CreateInModel("mtty", "mtty-1");
        var after = _mounted.Bash($"stat -L -c %F {Device} {MttyTypes}/mtty-1/devices/{Uuid} && ls sys/bus/mdev/devices");

        Assert.Equal(1, before.ExitCode);
        Assert.Equal(new(0, $"directory\ndirectory\n{Uuid}\n", ""), after);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RemovedDevice_IsGoneAtOnce_EverywhereTheKernelHeldIt(bool throughTheMount)
    {
        CreateInModel("mtty", "mtty-1");
        var held = _mounted.Bash($"stat -c %F {Device}/ {Device}/remove && readlink {Device} {Device}/mdev_type && cat {Device}/mdev_type/name");
        Assert.Equal(0, held.ExitCode);

        if (throughTheMount)
        {
            Assert.Equal(new(0, "", ""), _mounted.Bash($"echo 1 > {Device}/remove"));
        }
        else
        {
            Assert.Equal(Sysfs.Errno.None, _mounted.Host.Core.Remove(Assert.Single(_mounted.Host.Core.Devices)));
        }
        var after = _mounted.Bash($"ls sys/bus/mdev/devices {MttyTypes}/mtty-1/devices; for path in {Device} {Device}/remove {Device}/mdev_type {MttyTypes}/mtty-1/devices/{Uuid}; do stat -c %F $path 2>&1 | grep -c '{Missing}'; done");

        Assert.Equal(new(0, $"sys/bus/mdev/devices:\n\n{MttyTypes}/mtty-1/devices:\n1\n1\n1\n1\n", ""), after);
    }

    [Fact]
    public void DeviceRemovedThroughItsOwnDirectory_IsGoneForAShellStandingInIt()
    {
        CreateInModel("mtty", "mtty-1");

        // The shell's working directory and the remove file it has open both outlive the removal, as on sysfs.
        var result = _mounted.Bash($"cd {Device} && cat mdev_type/name && echo 1 > remove; stat -c %F remove 2>&1 | grep -c '{Missing}'; ls");

        Assert.Equal(new(0, "Single port serial\n1\n", ""), result with { Error = "" });
        Assert.Empty(_mounted.Host.Core.Devices);
    }

    [Fact]
    public void UuidMadeAgainOnAnotherParentAndType_ShowsTheNewLinksTypeAndInode()
    {
        const string look = $"readlink {Device} {Device}/mdev_type && cat {Device}/mdev_type/name && stat -L -c %i {Device}";
        CreateInModel("mtty", "mtty-1");
        var firstInode = Inode($"sys/devices/virtual/mtty/mtty/{Uuid}");
        var first = _mounted.Bash(look);

        Assert.Equal(Sysfs.Errno.None, _mounted.Host.Core.Remove(Assert.Single(_mounted.Host.Core.Devices)));
        CreateInModel("mdpy", "mdpy-vga");
        var second = _mounted.Bash(look);

        Assert.Equal(new(0, $"../../../devices/virtual/mtty/mtty/{Uuid}\n../mdev_supported_types/mtty-1\nSingle port serial\n{firstInode}\n", ""), first);
        Assert.Equal(new(0, $"../../../devices/virtual/mdpy/mdpy/{Uuid}\n../mdev_supported_types/mdpy-vga\nmdpy-vga\n{Inode($"sys/devices/virtual/mdpy/mdpy/{Uuid}")}\n", ""), second);
    }

    [Fact]
    public void AvailableInstances_FollowsEveryChange_ForNewReadersAndOneThatKeepsItOpen()
    {
        const string available = $"{MdpyTypes}/mdpy-vga/available_instances";
        // A monitor polls as on sysfs: one descriptor, read again from offset 0 after each change, with no
        // other open of the file in between.
        using var monitor = new FileStream(_mounted.Join(available), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        string Poll()
        {
            var buffer = new byte[64];
            monitor.Position = 0;
            return System.Text.Encoding.ASCII.GetString(buffer, 0, monitor.Read(buffer));
        }

        string[] seen =
        [
            Poll(),
            _mounted.Bash($"cat {available}").Output,
            .. ChangeInModel(() => CreateInModel("mdpy", "mdpy-vga"), Poll),
            _mounted.Bash($"cat {available} && echo 1 > {Device}/remove && cat {available}").Output,
            Poll(),
            _mounted.Bash($"echo {Uuid} > {MdpyTypes}/mdpy-vga/create && cat {available}").Output,
            Poll(),
            .. ChangeInModel(() => Assert.Equal(Sysfs.Errno.None, _mounted.Host.Core.Remove(Assert.Single(_mounted.Host.Core.Devices))), Poll),
            _mounted.Bash($"cat {available}").Output,
        ];

        Assert.Equal(["4\n", "4\n", "3\n", "3\n4\n", "4\n", "3\n", "3\n", "4\n", "4\n"], seen);
    }

    [Fact]
    public void HotUnpluggedParent_IsGoneAtOnce_AndBackWithItsLinksWhenPlugged()
    {
        const string parent = "sys/class/mdev_bus/mdpy";
        var held = _mounted.Bash($"readlink {parent} && stat -c %F {parent}/ {MdpyTypes}/mdpy-vga/available_instances");
        Assert.Equal(0, held.ExitCode);

        Assert.Equal(Sysfs.Errno.None, _mounted.Host.Unplug("mdpy"));
        var unplugged = _mounted.Bash($"ls sys/class/mdev_bus; for path in {parent} {parent}/ {MdpyTypes}/mdpy-vga/available_instances; do stat -c %F $path 2>&1 | grep -c '{Missing}'; done");
        Assert.Equal(Sysfs.Errno.None, _mounted.Host.Plug("mdpy"));
        var plugged = _mounted.Bash($"readlink {parent} && cat {MdpyTypes}/mdpy-vga/available_instances");

        Assert.Equal(new(0, "mbochs\nmtty\n1\n1\n1\n", ""), unplugged);
        Assert.Equal(new(0, held.Output.Split('\n')[0] + "\n4\n", ""), plugged);
    }

    private void CreateInModel(string parent, string typeId)
    {
        Assert.True(_mounted.Host.TryGetType(parent, typeId, out var type));
        Assert.Equal(Sysfs.Errno.None, _mounted.Host.Core.Create(type, Guid.Parse(Uuid)));
    }

    // What the look shows right after the change, with nothing else between them.
    private static string[] ChangeInModel(Action change, Func<string> look)
    {
        change();
        return [look()];
    }

    private string Inode(string path) => _mounted.Host.Tree.TryLookup(path, out var node) ? $"{node.Inode}" : "none";
}
