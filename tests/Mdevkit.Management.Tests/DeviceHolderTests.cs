using Mdevkit.Sysfs;

namespace Mdevkit.Management.Tests;

/// <summary>A holder's libvirt domain, from the command line libvirt starts QEMU with.</summary>
public sealed class DeviceHolderTests
{
    [Theory]
    [InlineData("guest=web-1,debug-threads=on", "web-1")]
    [InlineData("debug-threads=on,guest=db", "db")]
    [InlineData("guest=a,,b,debug-threads=on", "a,b")]
    [InlineData("plain", "plain")]
    [InlineData("plain,process=qemu:plain", "plain")]
    [InlineData("process=qemu", null)]
    public void Of_QemuWithName_NamesTheDomain(string name, string? domain)
    {
        var holder = DeviceHolder.Of(new NodeHolder(4242, "qemu-system-x86", ["/usr/bin/qemu-system-x86_64", "-name", name, "-S", "-machine", "pc"]));

        Assert.Equal(new DeviceHolder(4242, "qemu-system-x86", domain), holder);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sleep 1000")]
    [InlineData("qemu-system-x86_64 -name")]
    public void Of_CommandWithoutAName_HasNoDomain(string commandLine)
    {
        Assert.Null(DeviceHolder.Of(new NodeHolder(7, "x", commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Domain);
    }
}
