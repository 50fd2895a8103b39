using System.Runtime.InteropServices;

namespace Mdevkit.Sysfs.Native;

/// <summary>The netlink calls behind <see cref="UeventSocket"/>: a uevent socket, its groups, a network namespace to open it in.</summary>
internal static unsafe partial class Netlink
{
    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_KOBJECT_UEVENT = 15;
    public const int CLONE_NEWNET = 0x40000000;
    public const short POLLIN = 1;
    public const int SOL_SOCKET = 1;
    // Credentials of the sender come with each message; libudev's listeners drop messages without them.
    public const int SO_PASSCRED = 16;
    public const int SO_RCVBUF = 8;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int bind(int socket, sockaddr_nl* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    public static partial nint sendto(int socket, byte* buffer, nuint length, int flags, sockaddr_nl* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint recv(int socket, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int poll(pollfd* descriptors, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int setsockopt(int socket, int level, int option, int* value, uint valueLength);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int setns(int descriptor, int namespaceType);
}

/// <summary>A netlink address (<c>linux/netlink.h</c>): a port id and a bit mask of multicast groups.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct sockaddr_nl
{
    public ushort nl_family;
    public ushort nl_pad;
    public uint nl_pid;
    public uint nl_groups;
}

/// <summary>One descriptor for <c>poll(2)</c> (<c>poll.h</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
#pragma warning disable CS8981 // The C name, verbatim, as every native name here.
internal struct pollfd
#pragma warning restore CS8981
{
    public int fd;
    public short events;
    public short revents;
}
