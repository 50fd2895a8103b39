using System.Runtime.InteropServices;
using Mdevkit.Sysfs.Native;
using Mdevkit.TestSupport;

namespace Mdevkit.Sysfs.Tests;

/// <summary>The netlink address uevent sockets bind and send to, against <c>linux/netlink.h</c> (compiled here with gcc).</summary>
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
            #include <poll.h>
            #include <linux/netlink.h>

            int main(void)
            {
                printf("%zu %zu %zu %zu %zu\n", sizeof(struct sockaddr_nl), offsetof(struct sockaddr_nl, nl_family),
                       offsetof(struct sockaddr_nl, nl_pad), offsetof(struct sockaddr_nl, nl_pid), offsetof(struct sockaddr_nl, nl_groups));
                printf("%zu %zu %zu %zu\n", sizeof(struct pollfd), offsetof(struct pollfd, fd), offsetof(struct pollfd, events), offsetof(struct pollfd, revents));
                printf("%d %d %d %d %d %d %d %d %d\n", CLONE_NEWNET, AF_NETLINK, SOCK_RAW, SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT, POLLIN, SOL_SOCKET, SO_PASSCRED, SO_RCVBUF);
                return 0;
            }

            """);
        var compile = CommandRunner.Run("gcc", ["-D_GNU_SOURCE", "-o", _root.Join("netlink"), _root.Join("netlink.c")]);
        Assert.Equal(new CommandResult(0, "", ""), compile);

        var headers = CommandRunner.Run(_root.Join("netlink"), []);

        var ours = $"{Marshal.SizeOf<sockaddr_nl>()} {Offset(nameof(sockaddr_nl.nl_family))} {Offset(nameof(sockaddr_nl.nl_pad))} {Offset(nameof(sockaddr_nl.nl_pid))} {Offset(nameof(sockaddr_nl.nl_groups))}\n"
            + $"{Marshal.SizeOf<pollfd>()} {Marshal.OffsetOf<pollfd>(nameof(pollfd.fd))} {Marshal.OffsetOf<pollfd>(nameof(pollfd.events))} {Marshal.OffsetOf<pollfd>(nameof(pollfd.revents))}\n"
            + $"{Netlink.CLONE_NEWNET} {Netlink.AF_NETLINK} {Netlink.SOCK_RAW} {Netlink.SOCK_CLOEXEC} {Netlink.NETLINK_KOBJECT_UEVENT} {Netlink.POLLIN} {Netlink.SOL_SOCKET} {Netlink.SO_PASSCRED} {Netlink.SO_RCVBUF}\n";
        Assert.Equal(new CommandResult(0, ours, ""), headers);
    }

    private static nint Offset(string field) => Marshal.OffsetOf<sockaddr_nl>(field);
}
