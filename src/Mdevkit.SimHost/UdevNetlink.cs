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
internal sealed class UdevNetlink : IDisposable
{
    // The simulator's mark on its devices, so a listener can pick them out (udevadm monitor --tag-match).
    private static readonly string[] s_tags = ["mdevkit"];

    private readonly UeventSocket _socket;
    private readonly string _namespaceFile;

    private UdevNetlink(UeventSocket socket, string namespaceFile)
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
            UeventSocket socket;
            try
            {
                socket = UeventSocket.Open();
            }
            catch (SysfsException e)
            {
                failure = $"cannot open a uevent netlink socket: {SysfsException.Describe(e.Errno)}";
                return;
            }
            if (Libc.mount("/proc/thread-self/ns/net", namespaceFile, null, Libc.MS_BIND, 0) != 0)
            {
                failure = $"cannot bind the simulator's network namespace on {namespaceFile}: {Libc.LastError()}";
                socket.Dispose();
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
        var errno = _socket.Send(UdevMessage.Encode(uevent, s_tags), UeventSocket.UdevGroup);
        // The kernel says so when nobody has joined the group.
        return errno is Errno.None or Errno.ECONNREFUSED ? null : $"cannot send {uevent.Action}@{uevent.DevicePath} to udev listeners: {SysfsException.Describe(errno)}";
    }

    /// <summary>Closes the socket and detaches the namespace, which ends once the last process in it is gone.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        _ = Libc.umount2(_namespaceFile, Libc.MNT_DETACH);
    }
}
