using System.Globalization;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>
/// The PCI core's SR-IOV files on a physical function whose driver has <see cref="ISriovHook"/>
/// (<c>drivers/pci/iov.c</c>): <c>sriov_numvfs</c> enables or disables the virtual functions, which appear as
/// PCI functions of their own with a <c>physfn</c> link, and <c>virtfnN</c> links on the physical function.
/// </summary>
public sealed partial class MdevCore
{
    // The stride between consecutive VFs' routing ids; every SR-IOV GPU modelled here uses 1.
    private const int VfStride = 1;

    private void AddSriovFiles(ParentDevice physicalFunction, ISriovHook sriov)
    {
        var directory = physicalFunction.Directory;
        _tree.CreateAttribute(directory, "sriov_totalvfs", SysfsAttribute.ReadOnly, () => Line(sriov.TotalVfs));
        _tree.CreateAttribute(directory, "sriov_numvfs", SysfsAttribute.ReadWrite,
            () => Locked(() => Line(physicalFunction.VirtualFunctions.Count)), (data, _) => SetNumVfs(physicalFunction, sriov, data));
        _tree.CreateAttribute(directory, "sriov_offset", SysfsAttribute.ReadOnly, () => Line(sriov.FirstVfOffset));
        _tree.CreateAttribute(directory, "sriov_stride", SysfsAttribute.ReadOnly, () => Line(VfStride));
    }

    // A write to sriov_numvfs (sriov_numvfs_store): text that is no 16-bit number is EINVAL, more than
    // sriov_totalvfs ERANGE; the current count changes nothing; 0 disables; another count while virtual
    // functions exist is EBUSY (the SR-IOV spec has no partial disable); the driver may refuse either.
    private Errno SetNumVfs(ParentDevice physicalFunction, ISriovHook sriov, ReadOnlySpan<byte> input)
    {
        if (KernelNumber.ParseUnsigned(input, out var value) != Errno.None || value > ushort.MaxValue)
        {
            return Errno.EINVAL;
        }
        if (value > (ulong)sriov.TotalVfs)
        {
            return Errno.ERANGE;
        }
        var count = (int)value;
        return Change(() =>
        {
            if (physicalFunction.IsUnregistering)
            {
                return Errno.ENODEV;
            }
            var enabled = physicalFunction.VirtualFunctions.Count;
            if (count == enabled)
            {
                return Errno.None;
            }
            if (count != 0 && enabled != 0)
            {
                return Errno.EBUSY;
            }
            var refused = sriov.Configure(physicalFunction, count);
            if (refused != Errno.None)
            {
                return refused;
            }
            if (count == 0)
            {
                DisableVirtualFunctions(physicalFunction);
            }
            else
            {
                EnableVirtualFunctions(physicalFunction, sriov, count);
            }
            return Errno.None;
        });
    }

    /// <summary>The virtual functions of a physical function, in index order.</summary>
    public IReadOnlyList<ParentDevice> GetVirtualFunctions(ParentDevice physicalFunction) => Locked(() => physicalFunction.VirtualFunctions.ToArray());

    // pci_iov_add_virtfn for each: the function is added and bound, then linked to its physical function both ways.
    private void EnableVirtualFunctions(ParentDevice physicalFunction, ISriovHook sriov, int count)
    {
        var pf = PciAddress.TryParse(physicalFunction.Name, out var address)
            ? address
            : throw new InvalidOperationException($"'{physicalFunction.Name}' has SR-IOV but no PCI address");
        var routingId = (pf.Bus << 8) | (pf.Slot << 3) | pf.Function;
        for (var index = 0; index < count; index++)
        {
            var id = routingId + sriov.FirstVfOffset + (index * VfStride);
            var vfAddress = new PciAddress(pf.Domain, (id >> 8) & 0xff, (id >> 3) & 0x1f, id & 7);
            var vf = RegisterLocked(sriov.VirtualFunction(physicalFunction, index, vfAddress));
            vf.PhysicalFunction = physicalFunction;
            physicalFunction.VirtualFunctions.Add(vf);
            _tree.CreateLink(vf.Directory, "physfn", physicalFunction.Directory);
            _tree.CreateLink(physicalFunction.Directory, VirtfnLink(index), vf.Directory);
        }
    }

    // pci_iov_remove_virtfn in reverse order; a virtual function's own devices go with it, as on unplug.
    private void DisableVirtualFunctions(ParentDevice physicalFunction)
    {
        for (var index = physicalFunction.VirtualFunctions.Count - 1; index >= 0; index--)
        {
            if (_tree.TryLookup(physicalFunction.Directory.Path + "/" + VirtfnLink(index), out var link))
            {
                _tree.Remove(link);
            }
            UnregisterLocked(physicalFunction.VirtualFunctions[index]);
        }
        physicalFunction.VirtualFunctions.Clear();
    }

    private static string VirtfnLink(int index) => "virtfn" + index.ToString(CultureInfo.InvariantCulture);

    private static string Line(int value) => value.ToString(CultureInfo.InvariantCulture) + "\n";
}
