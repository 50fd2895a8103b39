using System.Globalization;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// Device use, as VFIO and the vendor drivers see it: the group node <c>dev/vfio/N</c> binds a device to
/// the one process that opens it; the first access sets up peer links between the devices that process
/// holds; the last close releases them; and <c>remove</c> on an open device waits for the holder.
/// </summary>
public sealed partial class MdevCore
{
    /// <summary>How long a remove waits for the holder of an open device before it asks again.</summary>
    internal static readonly TimeSpan ReleaseRequestInterval = TimeSpan.FromSeconds(10);

    private volatile bool _shuttingDown;

    /// <summary>What <c>remove</c> does to an open device.</summary>
    public RemoveWhileOpen RemoveWhileOpen { get; init; }

    /// <summary>The state of a device's use.</summary>
    public (DeviceState State, int? HolderPid, IReadOnlyList<Guid> Peers, int ReleaseRequests) GetUse(MdevDevice device)
    {
        lock (_lock)
        {
            return (device.Use.State, device.Use.HolderPid, [.. device.Use.Peers], device.Use.ReleaseRequests);
        }
    }

    /// <summary>How many peer links a parent has left; null when its vendor sets up none.</summary>
    public int? GetFreePeerLinks(ParentDevice parent)
    {
        lock (_lock)
        {
            return parent.FreePeerLinks;
        }
    }

    /// <summary>Ends every wait of a blocked <c>remove</c>; they fail with EINTR, as on a signal. For shutting the host down.</summary>
    public void Shutdown()
    {
        lock (_lock)
        {
            _shuttingDown = true;
            foreach (var device in _devices.Values)
            {
                device.Use.Released.Set();
            }
        }
    }

    // The group node and the read-only attributes that show the device's use.
    private void AddUseFiles(MdevDevice device)
    {
        var node = _tree.CreateDeviceNode(_tree.EnsureDirectory(SysfsPaths.VfioGroups), device.IommuGroup.ToString(CultureInfo.InvariantCulture), DeviceNode.RootOnly,
            (Caller caller, out IDeviceSession? session) => Open(device, caller, out session));
        device.Node = node;
        var vendor = _tree.EnsureDirectory(device.Directory.Path + "/vendor");
        _tree.CreateAttribute(vendor, "state", SysfsAttribute.ReadOnly, () => GetUse(device).State.Name() + "\n");
        _tree.CreateAttribute(vendor, "holder", SysfsAttribute.ReadOnly, () => GetUse(device).HolderPid is { } pid ? $"{pid}\n" : "none\n");
        _tree.CreateAttribute(vendor, "peer_links", SysfsAttribute.ReadOnly, () => string.Concat(GetUse(device).Peers.Select(peer => MdevUuid.Format(peer) + "\n")));
        _tree.CreateAttribute(vendor, "release_requests", SysfsAttribute.ReadOnly, () => $"{GetUse(device).ReleaseRequests}\n");
    }

    // Opening the group: one holder at a time (the VFIO group is exclusive), and no new device for a
    // process that runs devices of a vendor without hotplug.
    private Errno Open(MdevDevice device, Caller caller, out IDeviceSession? session)
    {
        session = null;
        var result = Change(() =>
        {
            if (device.IsRemoved || device.IsRemoving)
            {
                return Errno.ENODEV;
            }
            if (device.Use.HolderPid is not null)
            {
                return Errno.EBUSY;
            }
            if (!device.Parent.Blueprint.Lifecycle.Hotplug && _devices.Values.Any(other => other.Use.HolderPid == caller.Pid && other.Use.State == DeviceState.Running))
            {
                return Errno.EBUSY;
            }
            device.Use.HolderPid = caller.Pid;
            device.Use.State = DeviceState.Open;
            device.Use.Released.Reset();
            RaiseUse(device, "open");
            return Errno.None;
        });
        if (result == Errno.None)
        {
            session = new GroupSession(this, device);
        }
        return result;
    }

    // The first access through the handle: links to every other device the holder holds on another parent, all or none.
    private Errno Access(MdevDevice device) => Change(() =>
    {
        if (device.IsRemoved)
        {
            return Errno.ENODEV;
        }
        if (device.Use.State != DeviceState.Open)
        {
            return Errno.None;
        }
        var peers = _devices.Values
            .Where(other => other != device && other.Use.HolderPid == device.Use.HolderPid && other.Parent != device.Parent && !device.Use.Peers.Contains(other.Uuid))
            .ToArray();
        if (device.Parent.FreePeerLinks is not null)
        {
            var needed = peers.Where(peer => peer.Parent.FreePeerLinks is not null).ToArray();
            var demand = needed.GroupBy(peer => peer.Parent).Select(group => (Parent: group.Key, Count: group.Count())).Append((Parent: device.Parent, Count: needed.Length));
            if (demand.Any(entry => entry.Parent.FreePeerLinks < entry.Count))
            {
                return Errno.ENOSPC;
            }
            foreach (var peer in needed)
            {
                Link(device, peer);
            }
        }
        device.Use.State = DeviceState.Running;
        RaiseUse(device, "running");
        return Errno.None;
    });

    private static void Link(MdevDevice device, MdevDevice peer)
    {
        device.Parent.FreePeerLinks--;
        peer.Parent.FreePeerLinks--;
        device.Use.Peers.Add(peer.Uuid);
        peer.Use.Peers.Add(device.Uuid);
    }

    // The last close: links are freed at both ends and the device is nobody's.
    private void Release(MdevDevice device) => Change(() =>
    {
        ReleaseLocked(device);
        return Errno.None;
    });

    private void ReleaseLocked(MdevDevice device)
    {
        if (device.Use.HolderPid is null)
        {
            return;
        }
        foreach (var peerUuid in device.Use.Peers)
        {
            if (_devices.TryGetValue(peerUuid, out var peer))
            {
                peer.Use.Peers.Remove(device.Uuid);
                peer.Parent.FreePeerLinks++;
            }
            device.Parent.FreePeerLinks++;
        }
        device.Use.Peers.Clear();
        device.Use.HolderPid = null;
        device.Use.State = DeviceState.Idle;
        device.Use.Released.Set();
        if (!device.IsRemoved)
        {
            RaiseUse(device, "released");
        }
    }

    // A remove that finds the device idle removes it in the same critical section, so no open slips in between.
    // On an open device it refuses (older kernels), or asks the holder to release it and waits, asking again
    // every ten seconds, as vfio_unregister_group_dev does; opens fail meanwhile, so the release is the last.
    private Errno RemoveOnceReleased(MdevDevice device)
    {
        // Null: the device is held and the remove must wait.
        var decided = Change<Errno?>(() =>
        {
            if (device.Use.HolderPid is null)
            {
                return RemoveNowLocked(device);
            }
            if (RemoveWhileOpen == RemoveWhileOpen.Busy)
            {
                return Errno.EBUSY;
            }
            device.IsRemoving = true;
            return null;
        });
        if (decided is { } result)
        {
            return result;
        }
        while (!AskForRelease(device))
        {
            // Still held when the interval passed: ask again, as the kernel does.
        }
        if (_shuttingDown)
        {
            return Change(() =>
            {
                device.IsRemoving = false;
                return Errno.EINTR;
            });
        }
        return Remove(device);
    }

    // Asks the holder to let go, then waits: true once nobody holds the device, false when it is time to ask
    // again. The interval starts before the request is seen, so whoever sees it and lets the time pass (a
    // test's clock) cannot do so before the wait began.
    private bool AskForRelease(MdevDevice device)
    {
        using var askAgain = new CancellationTokenSource(ReleaseRequestInterval, _time);
        Change(() =>
        {
            device.Use.ReleaseRequests++;
            RaiseUse(device, "release-requested");
            return Errno.None;
        });
        return WaitHandle.WaitAny([device.Use.Released.WaitHandle, askAgain.Token.WaitHandle]) == 0;
    }

    private void RaiseUse(MdevDevice device, string lifecycle)
    {
        var holder = device.Use.HolderPid is { } pid ? pid.ToString(CultureInfo.InvariantCulture) : "none";
        _uevents.Enqueue("change", device.Directory.Path, MdevSubsystem, DeviceUeventVariables(device), ("MDEV_LIFECYCLE", lifecycle), ("HOLDER_PID", holder));
    }

    /// <summary>
    /// One open of a group node. Reads show the device's state (what a holder polls to learn that a release
    /// was requested); the first read or write is the first access.
    /// </summary>
    private sealed class GroupSession(MdevCore core, MdevDevice device) : IDeviceSession
    {
        public int Read(long offset, Span<byte> buffer, Caller reader)
        {
            var accessed = core.Access(device);
            if (accessed != Errno.None)
            {
                return -(int)accessed;
            }
            var use = core.GetUse(device);
            return CopyText($"state {use.State.Name()}\nrelease_requests {use.ReleaseRequests}\n", offset, buffer);
        }

        public int Write(ReadOnlySpan<byte> data, Caller writer)
        {
            var accessed = core.Access(device);
            return accessed == Errno.None ? data.Length : -(int)accessed;
        }

        public void Release() => core.Release(device);
    }
}
