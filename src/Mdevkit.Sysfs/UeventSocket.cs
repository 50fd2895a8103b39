using System.Runtime.InteropServices;
using Mdevkit.Sysfs.Native;

namespace Mdevkit.Sysfs;

/// <summary>
/// A <c>NETLINK_KOBJECT_UEVENT</c> socket: how the kernel (group <see cref="KernelGroup"/>) and udevd (group
/// <see cref="UdevGroup"/>) tell listeners that devices came, went or changed. One owner for both sides: a
/// listener joins groups, a sender (a simulated udevd) sends to one. The socket belongs to the network
/// namespace it was opened in, and hears and reaches only that namespace.
/// </summary>
public sealed unsafe class UeventSocket : IDisposable
{
    /// <summary>The kernel's own events.</summary>
    public const uint KernelGroup = 1;

    /// <summary>Events as udevd passes them on, in libudev's format (<see cref="UdevMessages"/>): what libudev's monitors hear.</summary>
    public const uint UdevGroup = 2;

    // The most one event takes: udev's own receive buffer for a message.
    private const int MaxMessage = 8192;

    private readonly int _socket;

    private UeventSocket(int socket)
    {
        _socket = socket;
    }

    /// <summary>Opens a socket in the calling thread's network namespace.</summary>
    /// <param name="groups">The groups to hear (a bit mask: <see cref="UdevGroup"/>…); 0 for a socket that only sends.</param>
    /// <exception cref="SysfsException">The socket cannot be opened or bound.</exception>
    public static UeventSocket Open(uint groups = 0)
    {
        var socket = Netlink.socket(Netlink.AF_NETLINK, Netlink.SOCK_RAW | Netlink.SOCK_CLOEXEC, Netlink.NETLINK_KOBJECT_UEVENT);
        if (socket < 0)
        {
            throw new SysfsException((Errno)Marshal.GetLastPInvokeError(), "uevent netlink socket");
        }
        var opened = new UeventSocket(socket);
        if (groups != 0)
        {
            var address = new sockaddr_nl { nl_family = Netlink.AF_NETLINK, nl_groups = groups };
            // A burst of events (a parent with many devices unplugged) must not overflow before it is read.
            var buffer = 4 << 20;
            var one = 1;
            if (Netlink.bind(socket, &address, (uint)sizeof(sockaddr_nl)) != 0
                || Netlink.setsockopt(socket, Netlink.SOL_SOCKET, Netlink.SO_RCVBUF, &buffer, sizeof(int)) != 0
                || Netlink.setsockopt(socket, Netlink.SOL_SOCKET, Netlink.SO_PASSCRED, &one, sizeof(int)) != 0)
            {
                var errno = (Errno)Marshal.GetLastPInvokeError();
                opened.Dispose();
                throw new SysfsException(errno, "uevent netlink socket");
            }
        }
        return opened;
    }

    /// <summary>Opens a socket in the network namespace a file names (<c>/proc/PID/ns/net</c>, or a bind mount of one).</summary>
    /// <exception cref="SysfsException">The namespace cannot be entered, or the socket opened.</exception>
    public static UeventSocket OpenIn(string networkNamespace, uint groups)
    {
        UeventSocket? opened = null;
        Exception? failure = null;
        // A namespace is a thread's: a thread of its own enters it and ends, and the socket stays in it.
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(networkNamespace);
                if (Netlink.setns((int)handle.DangerousGetHandle(), Netlink.CLONE_NEWNET) != 0)
                {
                    throw new SysfsException((Errno)Marshal.GetLastPInvokeError(), networkNamespace);
                }
                opened = Open(groups);
            }
            catch (Exception e) when (e is SysfsException or IOException or UnauthorizedAccessException)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return opened ?? throw (failure as SysfsException ?? new SysfsException(SysfsException.ToErrno(failure!), networkNamespace, failure));
    }

    /// <summary>Sends a message to a group.</summary>
    /// <returns><see cref="Errno.None"/>, or the errno (ECONNREFUSED: nobody listens).</returns>
    public Errno Send(ReadOnlySpan<byte> message, uint group)
    {
        var address = new sockaddr_nl { nl_family = Netlink.AF_NETLINK, nl_groups = group };
        fixed (byte* buffer = message)
        {
            return Netlink.sendto(_socket, buffer, (nuint)message.Length, 0, &address, (uint)sizeof(sockaddr_nl)) >= 0
                ? Errno.None
                : (Errno)Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a message.</summary>
    /// <returns>The message, or null when none came in time.</returns>
    /// <exception cref="SysfsException">Reading failed (ENOBUFS: events were lost because they came faster than they were read).</exception>
    public byte[]? Receive(TimeSpan timeout)
    {
        var wait = new pollfd { fd = _socket, events = Netlink.POLLIN };
        var ready = Netlink.poll(&wait, 1, (int)timeout.TotalMilliseconds);
        if (ready == 0 || (ready < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR))
        {
            return null;
        }
        var buffer = new byte[MaxMessage];
        nint length;
        fixed (byte* start = buffer)
        {
            length = ready < 0 ? -1 : Netlink.recv(_socket, start, MaxMessage, 0);
        }
        return length >= 0 ? buffer[..(int)length] : throw new SysfsException((Errno)Marshal.GetLastPInvokeError(), "uevent netlink socket");
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _ = Libc.close(_socket);
}
