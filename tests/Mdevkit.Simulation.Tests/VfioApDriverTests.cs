using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

public sealed class VfioApDriverTests
{
    private const string Matrix = "matrix";
    private const string Type = "vfio_ap-passthrough";

    // The s390 profile reserves adapters 5-6 and domains 4 and 0x47.
    private readonly SimulatedHost _host = HostFiles.Boot("s390");

    [Fact]
    public void Create_EachDevice_CoreCountsDownFromEveryApqn()
    {
        Assert.Equal(65536u, _host.Available(Matrix, Type));
        var first = _host.CreateOk(Matrix, Type);
        Assert.Equal(65535u, _host.Available(Matrix, Type));
        var second = _host.CreateOk(Matrix, Type);
        Assert.Equal(65534u, _host.Available(Matrix, Type));

        Assert.Equal(Errno.None, _host.Remove(first));
        Assert.Equal(65535u, _host.Available(Matrix, Type));
        Assert.Equal(Errno.None, _host.Remove(second));
        Assert.Equal(65536u, _host.Available(Matrix, Type));
    }

    [Fact]
    public void TypeAttributes_Passthrough_MatchKernel()
    {
        var path = _host.TypePath(Matrix, Type);

        Assert.Equal("VFIO AP Passthrough Device\n", _host.Read($"{path}/name"));
        Assert.Equal("vfio-ap\n", _host.Read($"{path}/device_api"));
        Assert.False(_host.Exists($"{path}/description"), "vfio_ap has no show_description");
    }

    [Fact]
    public void Matrix_AssignAdaptersAndDomains_ListsEveryApqn()
    {
        var device = HostFiles.DevicePath(_host.CreateOk(Matrix, Type));
        Assert.Equal("", _host.Read($"{device}/matrix"));

        (string Attribute, string Value, string Matrix)[] steps =
        [
            ("assign_adapter", "6\n", "06.\n"),
            ("assign_adapter", "0x5", "05.\n06.\n"),
            ("assign_domain", "0x47", "05.0047\n06.0047\n"),
            ("assign_domain", "4", "05.0004\n05.0047\n06.0004\n06.0047\n"),
            ("unassign_adapter", "5", "06.0004\n06.0047\n"),
            ("unassign_adapter", "6", ".0004\n.0047\n"),
            ("unassign_domain", "4", ".0047\n"),
            // Unassigning what is not assigned is no error.
            ("unassign_domain", "4", ".0047\n"),
        ];
        foreach (var (attribute, value, matrix) in steps)
        {
            Store(_host, device, (attribute, value));
            Assert.Equal(matrix, _host.Read($"{device}/matrix"));
        }
    }

    [Fact]
    public void ControlDomains_AnyIdInRange_AreListedInOrder()
    {
        var device = HostFiles.DevicePath(_host.CreateOk(Matrix, Type));

        Store(_host, device, ("assign_control_domain", "0xab"), ("assign_control_domain", "4"), ("assign_control_domain", "255"));
        Assert.Equal("0004\n00ab\n00ff\n", _host.Read($"{device}/control_domains"));

        Store(_host, device, ("unassign_control_domain", "0xab"));
        Assert.Equal("0004\n00ff\n", _host.Read($"{device}/control_domains"));
        Assert.Equal("", _host.Read($"{device}/matrix"));
    }

    [Theory]
    [InlineData("assign_adapter", "five", Errno.EINVAL)]
    [InlineData("assign_adapter", "\n", Errno.EINVAL)]
    [InlineData("assign_adapter", "-5", Errno.EINVAL)]
    [InlineData("assign_adapter", "99999999999999999999999", Errno.ERANGE)]
    [InlineData("assign_adapter", "256", Errno.ENODEV)]
    [InlineData("assign_adapter", "7", Errno.EADDRNOTAVAIL)]
    [InlineData("assign_adapter", "0x4", Errno.EADDRNOTAVAIL)]
    [InlineData("unassign_adapter", "0x100", Errno.ENODEV)]
    [InlineData("unassign_adapter", "5 6", Errno.EINVAL)]
    [InlineData("assign_domain", "1000", Errno.ENODEV)]
    [InlineData("assign_domain", "5", Errno.EADDRNOTAVAIL)]
    [InlineData("assign_domain", "0x48", Errno.EADDRNOTAVAIL)]
    [InlineData("unassign_domain", "x", Errno.EINVAL)]
    [InlineData("unassign_domain", "256", Errno.ENODEV)]
    [InlineData("assign_control_domain", "256", Errno.ENODEV)]
    [InlineData("assign_control_domain", "0xfg", Errno.EINVAL)]
    [InlineData("unassign_control_domain", "18446744073709551616", Errno.ERANGE)]
    public void Store_BadValue_FailsWithKernelErrnoAndChangesNothing(string attribute, string value, Errno expected)
    {
        var device = HostFiles.DevicePath(_host.CreateOk(Matrix, Type));

        Assert.Equal(expected, _host.Write($"{device}/{attribute}", value));

        Assert.Equal("", _host.Read($"{device}/matrix"));
        Assert.Equal("", _host.Read($"{device}/control_domains"));
    }

    [Fact]
    public void Assign_ApqnOfAnotherDevice_FailsWithEaddrinuseUntilItIsRemoved()
    {
        var owner = _host.CreateOk(Matrix, Type);
        var ownerPath = HostFiles.DevicePath(owner);
        Store(_host, ownerPath, ("assign_adapter", "5"), ("assign_domain", "4"));
        var other = HostFiles.DevicePath(_host.CreateOk(Matrix, Type));

        // Adapter 5 alone, or with another domain, takes no APQN of the owner's.
        Store(_host, other, ("assign_adapter", "5"), ("assign_domain", "0x47"));
        Assert.Equal(Errno.EADDRINUSE, _host.Write($"{other}/assign_domain", "4"));
        Assert.Equal("05.0047\n", _host.Read($"{other}/matrix"));
        // Control domains are not exclusive.
        Store(_host, ownerPath, ("assign_control_domain", "4"));
        Store(_host, other, ("assign_control_domain", "4"));

        Assert.Equal(Errno.None, _host.Remove(owner));

        Assert.Equal(Errno.None, _host.Write($"{other}/assign_domain", "4"));
        Assert.Equal("05.0004\n05.0047\n", _host.Read($"{other}/matrix"));
    }

    [Fact]
    public void Assign_ReservedLists_ComeFromProfile()
    {
        var host = HostFiles.BootParents("""{ "driver": "vfio_ap", "adapters": "0x0a,0x10-0x11", "domains": "0-1" }""");
        var device = HostFiles.DevicePath(host.CreateOk(Matrix, Type));

        Assert.Equal(Errno.EADDRNOTAVAIL, host.Write($"{device}/assign_adapter", "5"));
        Assert.Equal(Errno.EADDRNOTAVAIL, host.Write($"{device}/assign_domain", "4"));
        Store(host, device, ("assign_adapter", "10"), ("assign_adapter", "0x11"), ("assign_domain", "1"));
        Assert.Equal("0a.0001\n11.0001\n", host.Read($"{device}/matrix"));
    }

    // Writes each value to its attribute of the device, expecting every write to succeed.
    private static void Store(SimulatedHost host, string device, params (string Attribute, string Value)[] writes)
    {
        foreach (var (attribute, value) in writes)
        {
            Assert.Equal(Errno.None, host.Write($"{device}/{attribute}", value));
        }
    }
}
