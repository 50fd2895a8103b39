using System.Globalization;
using System.Text;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// Devices a driver registers with VFIO itself (<see cref="IVfioFunctionHook"/>): the <c>vfio-dev/vfioN</c>
/// class device with its character device <c>dev/vfio/devices/vfioN</c> (iommufd), and the legacy group node
/// <c>dev/vfio/&lt;group&gt;</c>. Either node binds the device to one process until its last close.
/// </summary>
public sealed partial class MdevCore
{
    private const string VfioDevClass = "vfio-dev";

    // The cdev region is allocated at boot (alloc_chrdev_region), so its major differs between machines: a chosen value.
    private const int VfioCdevMajor = 511;

    // The cdev minors: an IDA, the lowest free number is taken. Guarded by the core lock.
    private readonly SortedSet<int> _vfioNumbers = [];

    private void AddVfioFiles(ParentDevice function)
    {
        var number = 0;
        while (!_vfioNumbers.Add(number))
        {
            number++;
        }
        function.VfioNumber = number;
        function.VfioUse = new DeviceUse();
        var name = VfioName(number);
        var classDevice = _tree.CreateDirectory(_tree.EnsureDirectory(function.Directory.Path + "/" + VfioDevClass), name);
        var dev = string.Create(CultureInfo.InvariantCulture, $"{VfioCdevMajor}:{number}");
        _tree.CreateAttribute(classDevice, "dev", SysfsAttribute.ReadOnly, () => dev + "\n");
        var variables = VfioUeventVariables(number);
        _tree.CreateAttribute(classDevice, SysfsNames.Uevent, SysfsAttribute.ReadWrite,
            () => UeventText(variables), (data, _) => SynthesizeUevent(data, classDevice.Path, VfioDevClass, variables));
        _tree.CreateLink(classDevice, SysfsNames.Subsystem, _tree.EnsureDirectory("sys/class/" + VfioDevClass));
        _tree.CreateLink(_tree.EnsureDirectory("sys/class/" + VfioDevClass), name, classDevice);
        DeviceOpenHandler open = (Caller caller, out IDeviceSession? session) => OpenFunction(function, caller, out session);
        _tree.CreateDeviceNode(_tree.EnsureDirectory(SysfsPaths.VfioGroups + "/devices"), name, DeviceNode.RootOnly, open);
        if (function.IommuGroup is { } group)
        {
            _tree.CreateDeviceNode(_tree.EnsureDirectory(SysfsPaths.VfioGroups), group.ToString(CultureInfo.InvariantCulture), DeviceNode.RootOnly, open);
        }
        _uevents.Enqueue("add", classDevice.Path, VfioDevClass, variables);
    }

    // The variables of a VFIO character device's uevent file and events, in the kernel's order.
    private static KeyValuePair<string, string>[] VfioUeventVariables(int number) =>
    [
        new("MAJOR", VfioCdevMajor.ToString(CultureInfo.InvariantCulture)),
        new("MINOR", number.ToString(CultureInfo.InvariantCulture)),
        new("DEVNAME", "vfio/devices/" + VfioName(number)),
    ];

    // vfio_unregister_group_dev on an unplug: the holder loses the device, its nodes and class device go.
    private void RemoveVfioFiles(ParentDevice function)
    {
        if (function.VfioNumber is not { } number || function.VfioUse is not { } use)
        {
            return;
        }
        ReleaseFunction(use);
        var name = VfioName(number);
        string[] paths = [SysfsPaths.VfioGroups + "/devices/" + name, "sys/class/" + VfioDevClass + "/" + name];
        foreach (var path in function.IommuGroup is { } group ? paths.Append(SysfsPaths.VfioGroups + "/" + group.ToString(CultureInfo.InvariantCulture)) : paths)
        {
            if (_tree.TryLookup(path, out var node))
            {
                _tree.Remove(node);
            }
        }
        _uevents.Enqueue("remove", function.Directory.Path + "/" + VfioDevClass + "/" + name, VfioDevClass, VfioUeventVariables(number));
        _vfioNumbers.Remove(number);
        function.VfioNumber = null;
    }

    private Errno OpenFunction(ParentDevice function, Caller caller, out IDeviceSession? session)
    {
        session = null;
        var result = Change(() =>
        {
            if (function.IsUnregistering || function.VfioUse is not { } use)
            {
                return Errno.ENODEV;
            }
            if (use.HolderPid is not null)
            {
                return Errno.EBUSY;
            }
            var refused = ((IVfioFunctionHook)function.Driver).CanOpen(function);
            if (refused != Errno.None)
            {
                return refused;
            }
            use.HolderPid = caller.Pid;
            use.State = DeviceState.Open;
            use.Released.Reset();
            return Errno.None;
        });
        if (result == Errno.None)
        {
            session = new FunctionSession(this, function, function.VfioUse!);
        }
        return result;
    }

    private static void ReleaseFunction(DeviceUse use)
    {
        use.HolderPid = null;
        use.State = DeviceState.Idle;
        use.Released.Set();
    }

    private static string VfioName(int number) => "vfio" + number.ToString(CultureInfo.InvariantCulture);

    /// <summary>One open of a function's VFIO node: reads show its state, the first read or write is its first access.</summary>
    private sealed class FunctionSession(MdevCore core, ParentDevice function, DeviceUse use) : IDeviceSession
    {
        public int Read(long offset, Span<byte> buffer, Caller reader)
        {
            var state = core.Change(() =>
            {
                if (function.IsUnregistering)
                {
                    return null;
                }
                use.State = DeviceState.Running;
                return use.State.Name();
            });
            return state is null ? -(int)Errno.ENODEV : CopyText($"state {state}\n", offset, buffer);
        }

        public int Write(ReadOnlySpan<byte> data, Caller writer)
        {
            var length = data.Length;
            return core.Change(() =>
            {
                if (function.IsUnregistering)
                {
                    return -(int)Errno.ENODEV;
                }
                use.State = DeviceState.Running;
                return length;
            });
        }

        public void Release() => core.Change(() =>
        {
            if (use.HolderPid is not null)
            {
                ReleaseFunction(use);
            }
            return Errno.None;
        });
    }

    // The part of a node's text from offset on, as a read returns it.
    private static int CopyText(string text, long offset, Span<byte> buffer)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (offset >= bytes.Length)
        {
            return 0;
        }
        var count = Math.Min(buffer.Length, bytes.Length - (int)offset);
        bytes.AsSpan((int)offset, count).CopyTo(buffer);
        return count;
    }
}
