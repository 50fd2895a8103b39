using Mdevkit.Management.Libvirt;
using Mdevkit.Management.Planning;
using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>
/// When sysfs itself fails (a directory that cannot be listed, as a dead FUSE mount or a denied directory
/// gives), what leaves Management is an <see cref="MdevctlException"/> naming the file, never the Sysfs layer's own.
/// </summary>
public sealed class SysfsFailureTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(SysfsFailureTests));
    private readonly MdevctlEnvironment _environment;
    private readonly DeviceInventory _inventory;

    public SysfsFailureTests()
    {
        _root.File("etc/mdevctl.d/scripts.d/callouts/.keep", "");
        _root.File("etc/mdevctl.d/scripts.d/notifiers/.keep", "");
        // A link to itself: listing it fails with ELOOP, as listing a dead mount fails with ENOTCONN.
        _root.Link("sys/class/mdev_bus", "mdev_bus");
        _root.Link("sys/bus/mdev/devices", "devices");
        _environment = new MdevctlEnvironment(_root.Path);
        _inventory = new DeviceInventory(_environment, new DefinitionStore(_environment), new Callouts(_environment, TextWriter.Null));
    }

    public void Dispose() => _root.Dispose();

    public static TheoryData<string> Operations => ["active", "defined", "plan", "nodedev list", "in use"];

    [Theory]
    [MemberData(nameof(Operations))]
    public void UnreadableSysfs_LeavesAsMdevctlException_NamingTheDirectory(string operation)
    {
        Action run = operation switch
        {
            "active" => () => _inventory.Active(),
            "defined" => () => _inventory.Defined(),
            "plan" => () => new Planner(new CapacityStore(_environment), new KernelDevices(_environment, vendorVfio: true), new DefinitionStore(_environment)).Plan([new DeviceRequest("mtty-1", 1)]),
            "nodedev list" => () => new NodeDevices(_environment, _inventory).List(active: true, inactive: true),
            _ => () => _environment.HasParentsOrDefinitions(),
        };

        var error = Assert.Throws<MdevctlException>(run);

        Assert.Matches(@"^Error: \S+/sys/(class/mdev_bus|bus/mdev/devices): Too many levels of symbolic links \(os error 40\)\n$", error.Render());
    }

    [Fact]
    public void UnreadableSysfs_Types_FailsAsMdevctlDoes()
    {
        Assert.Equal("Error: Too many levels of symbolic links (os error 40)\n", Assert.Throws<MdevctlException>(() => _inventory.Types()).Render());
    }
}
