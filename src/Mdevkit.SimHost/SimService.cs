using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Mdevkit.SimHost.Native;
using Mdevkit.Fuse;
using Mdevkit.Simulation;
using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.SimHost;

/// <summary>
/// A running simulator: a host booted from a profile, its sysfs mounted at <c>ROOT/sys</c>, a control
/// socket for the other <c>sim</c> verbs, and udev's part: every uevent goes to libudev's listeners in the
/// simulator's network namespace, and a registered parent with definitions gets <c>start-parent-mdevs</c>,
/// as mdevctl's udev rule does, through the command the host is given.
/// </summary>
public sealed class SimService : IDisposable
{
    // A request is one short line: a client silent for this long is dropped.
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(10);
    private readonly Socket _listener;
    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TextWriter _log;
    private readonly FuseMount _devices;
    private readonly IReadOnlyList<string> _autostart;
    private readonly UdevNetlink _udev;

    private SimService(SimulatedHost host, SimRoot root, FuseMount mount, FuseMount devices, UdevNetlink udev, Socket listener, TextWriter log, IReadOnlyList<string> autostart)
    {
        _autostart = autostart;
        _udev = udev;
        Host = host;
        Root = root;
        Mount = mount;
        _devices = devices;
        _listener = listener;
        _log = log;
        Host.UeventRaised += OnUevent;
        _ = Task.Run(ServeAsync);
    }

    public SimulatedHost Host { get; }

    public SimRoot Root { get; }

    public FuseMount Mount { get; }

    /// <summary>Completes when <c>sim down</c> asks the simulator to stop, or a mount went away.</summary>
    public Task Stopped => Task.WhenAny(_stopRequested.Task, Mount.Ended, _devices.Ended);

    /// <summary>Prepares the root, boots the host, mounts it and opens the control socket.</summary>
    /// <param name="profile">The host to boot.</param>
    /// <param name="root">Where to serve it.</param>
    /// <param name="log">Where every uevent, autostart and control mishap is written, a line each.</param>
    /// <param name="autostart">The command udev's rule would run when a parent with definitions registers
    /// (<c>mdevkit start-parent-mdevs</c>); the parent's name and <c>--root ROOT</c> are added to it.</param>
    /// <exception cref="SimException">The root is in use, or the mount failed.</exception>
    public static SimService Start(HostProfile profile, SimRoot root, TextWriter log, IReadOnlyList<string> autostart)
    {
        // What the simulator creates gets the modes it chooses, not whatever umask it was started with.
        _ = Libc.umask(Convert.ToUInt32("022", 8));
        _ = SimMounts.DetachDead(root);
        root.CreateDirectories();
        root.CreateMountPoints();
        foreach (var mountPoint in root.MountPoints)
        {
            RequireEmpty(mountPoint);
        }
        var host = SimulatedHost.Boot(profile);
        // The FUSE layer's own troubles go to the simulator's log.
        Action<string> warn = warning => log.WriteLine($"fuse: {warning}");
        FuseMount mount;
        FuseMount devices;
        try
        {
            mount = FuseMount.Mount(host.Tree, SysfsPaths.Sys, root.Sys, warn);
            try
            {
                devices = FuseMount.Mount(host.Tree, SysfsPaths.Dev, root.Dev, warn);
            }
            catch (FuseException)
            {
                mount.Dispose();
                throw;
            }
        }
        catch (FuseException e)
        {
            throw new SimException(e.Message);
        }
        UdevNetlink udev;
        try
        {
            udev = UdevNetlink.Open(root.NetworkNamespace);
        }
        catch (SimException)
        {
            mount.Dispose();
            devices.Dispose();
            throw;
        }
        File.Delete(root.Socket);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(root.Socket));
        // Every request changes the host or reveals its holders: root's alone.
        File.SetUnixFileMode(root.Socket, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        listener.Listen();
        return new SimService(host, root, mount, devices, udev, listener, log, autostart);
    }

    public void Dispose()
    {
        Host.UeventRaised -= OnUevent;
        // A remove blocked on a device that is still open gives up first, so no request is left hanging.
        Host.Core.Shutdown();
        Mount.Dispose();
        _devices.Dispose();
        _udev.Dispose();
        // Last, because disposing the listener unlinks the socket, and a waiting 'sim down' returns
        // once the socket is gone: only then are the mounts gone too.
        _listener.Dispose();
        File.Delete(Root.Socket);
    }

    // The mount point must be free: an empty directory (after detaching what a killed simulator left there).
    private static void RequireEmpty(string mountPoint)
    {
        if (Directory.EnumerateFileSystemEntries(mountPoint).Any())
        {
            throw new SimException($"{mountPoint} is not empty; give an empty directory with --root");
        }
    }

    private void OnUevent(Uevent uevent)
    {
        _log.WriteLine($"uevent: {uevent}");
        if (_udev.Send(uevent) is { } failure)
        {
            _log.WriteLine($"udev: {failure}");
        }
        // What the udev rules installed with mdevkit match: an mdev parent registering, and nvidia binding a virtual
        // function of the vendor-specific VFIO interface, which never registers (dist/60-mdevkit.rules).
        var registered = uevent.Action == "change" && uevent["MDEV_STATE"] == "registered";
        var vendorVgpuBound = uevent.Action == "bind" && uevent["SUBSYSTEM"] == "pci" && uevent["DRIVER"] == "nvidia"
            && Host.Tree.TryLookup("sys" + uevent.DevicePath + "/" + SysfsNames.NvidiaCurrentVgpuType, out _);
        var parent = uevent.DevicePath[(uevent.DevicePath.LastIndexOf('/') + 1)..];
        if (!(registered || vendorVgpuBound) || !Directory.Exists(Path.Join(Root.ConfigDirectory, parent)))
        {
            return;
        }
        // What udev would run: mdevkit's autostart for the parent, with this root, outside the lock that raised the event.
        _ = Task.Run(() =>
        {
            var start = new ProcessStartInfo(_autostart[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in _autostart.Skip(1).Concat([parent, "--root", Root.Directory]))
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            _log.WriteLine($"autostart {parent}: exit {process.ExitCode} {errors.Trim()}");
        });
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            // Each client on its own, so one that says nothing, or hangs up early, holds up no one else.
            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(Socket client)
    {
        using var timeout = new CancellationTokenSource(s_requestTimeout);
        try
        {
            using (client)
            await using (var stream = new NetworkStream(client))
            using (var reader = new StreamReader(stream))
            await using (var writer = new StreamWriter(stream) { NewLine = "\n" })
            {
                var request = await reader.ReadLineAsync(timeout.Token);
                if (request is null)
                {
                    return;
                }
                await writer.WriteAsync(Handle(request.Split(' ', StringSplitOptions.RemoveEmptyEntries)).AsMemory(), timeout.Token);
                await writer.FlushAsync(timeout.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            _log.WriteLine(e is OperationCanceledException
                ? $"control: a client sent no request within {s_requestTimeout.TotalSeconds} s; dropped"
                : "control: a client hung up before its answer");
        }
    }

    private string Handle(string[] request)
    {
        switch (request)
        {
            case ["status"]:
                return Status();
            case ["hotplug", "add", var parent]:
                return Reply(Host.Plug(parent), parent);
            case ["hotplug", "remove", var parent]:
                return Reply(Host.Unplug(parent), parent);
            case ["reboot"]:
                // Before the reboot: devices started on the way back up (an autostart on a VF's bind) keep their records.
                Root.ForgetRunningKernel();
                Host.Reboot();
                return "ok\n";
            case ["down"]:
                _stopRequested.TrySetResult();
                return "ok\n";
            default:
                return $"error: unknown request '{string.Join(' ', request)}'\n";
        }
    }

    private static string Reply(Errno result, string parent) => result switch
    {
        Errno.None => "ok\n",
        Errno.ENODEV => $"error: no parent device '{parent}' in this host\n",
        Errno.EEXIST => $"error: parent device '{parent}' is already plugged in\n",
        _ => $"error: {SysfsException.Describe(result)}\n",
    };

    private string Status()
    {
        var text = new StringBuilder();
        text.Append($"ok\nprofile {Host.ProfileName}\npid {Environment.ProcessId}\nroot {Root.Directory}\n");
        var present = Host.Core.Parents.Select(parent => parent.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var blueprint in Host.Hardware)
        {
            text.Append($"parent {blueprint.Name} {(present.Contains(blueprint.Name) ? "present" : "unplugged")}\n");
        }
        foreach (var device in Host.Core.Devices.OrderBy(device => device.Name, StringComparer.Ordinal))
        {
            var use = Host.Core.GetUse(device);
            var holder = use.HolderPid is { } pid ? $" {pid}" : "";
            text.Append($"device {device.Name} {device.Parent.Name} {device.Type.Id} {use.State.Name()}{holder}\n");
        }
        return text.ToString();
    }
}

/// <summary>A simulator verb that cannot be carried out; the message is for the user.</summary>
public class SimException(string message) : Exception(message);
