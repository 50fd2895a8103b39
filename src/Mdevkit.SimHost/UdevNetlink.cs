using System.Runtime.InteropServices;
using Mdevkit.SimHost.Native;
using Mdevkit.Simulation;
using Mdevkit.Sysfs;

namespace Mdevkit.SimHost;

/// <summary>
/// udevd's part for listeners: each uevent goes out on netlink in libudev's format, to the "udev" multicast group,
/// from a network namespace of the simulator's own, so that only the commands <c>sim exec</c> runs in it hear
/// them and the machine's udev listeners never meet a simulated device. The namespace lives as long as the
/// simulator, held by the socket and by a bind mount on a file under the root, which <c>sim exec</c> enters.
/// </summary>
internal sealed unsafe class UdevNetlink : IDisposable
{
    // libudev's listeners subscribe to group 2 ("udev"); group 1 is the kernel's own events.
    private const uint UdevGroup = 2;

    // The simulator's mark on its devices, so a listener can pick them out (udevadm monitor --tag-match).
    private static readonly string[] s_tags = ["mdevkit"];

    private readonly int _socket;
    private readonly string _namespaceFile;

    private UdevNetlink(int socket, string namespaceFile)
    {
        _socket = socket;
        _namespaceFile = namespaceFile;
    }

    /// <summary>Makes the namespace, binds it on <paramref name="namespaceFile"/> and opens the socket in it.</summary>
    /// <exception cref="SimException">The namespace, the socket or the bind mount could not be made.</exception>
    public static UdevNetlink Open(string namespaceFile)
    {
        if (!File.Exists(namespaceFile))
        {
            File.WriteAllBytes(namespaceFile, []);
        }
        UdevNetlink? opened = null;
        string? failure = null;
        // A network namespace belongs to a thread; a thread of its own enters it, so no pooled thread is left in it.
        var thread = new Thread(() =>
        {
            if (Libc.unshare(Libc.CLONE_NEWNET) != 0)
            {
                failure = $"cannot make a network namespace: {Libc.LastError()}";
                return;
            }
            var socket = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_KOBJECT_UEVENT);
            if (socket < 0)
            {
                failure = $"cannot open a uevent netlink socket: {Libc.LastError()}";
                return;
            }
            if (Libc.mount("/proc/thread-self/ns/net", namespaceFile, null, Libc.MS_BIND, 0) != 0)
            {
                failure = $"cannot bind the simulator's network namespace on {namespaceFile}: {Libc.LastError()}";
                _ = Libc.close(socket);
                return;
            }
            opened = new UdevNetlink(socket, namespaceFile);
        });
        thread.Start();
        thread.Join();
        return opened ?? throw new SimException(failure!);
    }

    /// <summary>Sends the event to whoever listens now; with no listener it is gone, as udevd's would be.</summary>
    /// <returns>Null, or why the event could not be sent.</returns>
    public string? Send(Uevent uevent)
    {
        var message = UdevMessage.Encode(uevent, s_tags);
        var address = new sockaddr_nl { nl_family = Libc.AF_NETLINK, nl_groups = UdevGroup };
        fixed (byte* buffer = message)
        {
            if (Libc.sendto(_socket, buffer, (nuint)message.Length, 0, &address, (uint)sizeof(sockaddr_nl)) >= 0)
            {
                return null;
            }
        }
        var errno = (Errno)Marshal.GetLastPInvokeError();
        // The kernel says so when nobody has joined the group.
        return errno == Errno.ECONNREFUSED ? null : $"cannot send {uevent.Action}@{uevent.DevicePath} to udev listeners: {SysfsException.Describe(errno)}";
    }

    /// <summary>Closes the socket and detaches the namespace, which ends once the last process in it is gone.</summary>
    public void Dispose()
    {
        _ = Libc.close(_socket);
        _ = Libc.umount2(_namespaceFile, Libc.MNT_DETACH);
    }
}
