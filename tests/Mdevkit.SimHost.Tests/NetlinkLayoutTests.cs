using System.Runtime.InteropServices;
using Mdevkit.SimHost.Native;
using Mdevkit.TestSupport;

namespace Mdevkit.SimHost.Tests;

/// <summary>The netlink address the simulator sends udev's events to, against <c>linux/netlink.h</c> (compiled here with gcc).</summary>
public sealed class NetlinkLayoutTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(NetlinkLayoutTests));

    public void Dispose() => _root.Dispose();

    [Fact]
    public void SockaddrNl_HasTheSizeOffsetsAndConstantsOfTheCHeaders()
    {
        _root.File("netlink.c", """
            #include <stddef.h>
            #include <stdio.h>
            #include <sched.h>
            #include <fcntl.h>
            #include <sys/socket.h>
            #include <linux/netlink.h>

            int main(void)
            {
                printf("%zu %zu %zu %zu %zu\n", sizeof(struct sockaddr_nl), offsetof(struct sockaddr_nl, nl_family),
                       offsetof(struct sockaddr_nl, nl_pad), offsetof(struct sockaddr_nl, nl_pid), offsetof(struct sockaddr_nl, nl_groups));
                printf("%d %d %d %d %d %d\n", CLONE_NEWNET, AF_NETLINK, SOCK_RAW, SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT, O_CLOEXEC);
                return 0;
            }

            """);
        var compile = CommandRunner.Run("gcc", ["-D_GNU_SOURCE", "-o", _root.Join("netlink"), _root.Join("netlink.c")]);
        Assert.Equal(new CommandResult(0, "", ""), compile);

        var headers = CommandRunner.Run(_root.Join("netlink"), []);

        var ours = $"{Marshal.SizeOf<sockaddr_nl>()} {Offset(nameof(sockaddr_nl.nl_family))} {Offset(nameof(sockaddr_nl.nl_pad))} {Offset(nameof(sockaddr_nl.nl_pid))} {Offset(nameof(sockaddr_nl.nl_groups))}\n"
            + $"{Libc.CLONE_NEWNET} {Libc.AF_NETLINK} {Libc.SOCK_RAW} {Libc.SOCK_CLOEXEC} {Libc.NETLINK_KOBJECT_UEVENT} {Libc.O_CLOEXEC}\n";
        Assert.Equal(new CommandResult(0, ours, ""), headers);
    }

    private static nint Offset(string field) => Marshal.OffsetOf<sockaddr_nl>(field);
}
