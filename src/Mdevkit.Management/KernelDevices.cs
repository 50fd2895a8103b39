using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// Where devices can live and which run, through the kernel's two interfaces for them: mdev, and (under the
/// <c>mdevkit</c> name) NVIDIA's vendor-specific VFIO, whose virtual functions are parents with one slot each
/// (<see cref="VendorVgpus"/>). Under the <c>mdevctl</c> name only mdev is seen, as mdevctl sees it.
/// </summary>
public sealed class KernelDevices
{
    private readonly MdevctlEnvironment _environment;
    private readonly VendorVgpus? _vendor;

    /// <param name="environment">The root.</param>
    /// <param name="vendorVfio">Whether NVIDIA's vendor-specific VFIO is seen too.</param>
    public KernelDevices(MdevctlEnvironment environment, bool vendorVfio)
    {
        _environment = environment;
        _vendor = vendorVfio ? new VendorVgpus(environment) : null;
    }

    // Only NVIDIA's GPUs get their virtual functions enabled on demand: any other device's are its owner's to manage.
    private const string NvidiaDriver = "nvidia";

    private SysfsRoot Sysfs => _environment.Sysfs;

    /// <summary>Every parent, in byte order: mdev's registered ones and the vendor-specific VFIO slots.</summary>
    /// <exception cref="SysfsException">A directory cannot be read.</exception>
    public IReadOnlyList<string> ParentNames() =>
        _vendor is null ? Sysfs.GetParentNames() : [.. Sysfs.GetParentNames().Concat(_vendor.SlotNames()).Order(StringComparer.Ordinal)];

    /// <summary>Whether a parent exists now.</summary>
    public bool ParentExists(string parent) => Sysfs.ParentExists(parent) || IsVendorSlot(parent);

    /// <summary>Whether a parent can take devices now: an mdev parent with its types, or a vendor-specific VFIO slot.</summary>
    public bool OffersTypes(string parent) => Sysfs.OffersTypes(parent) || IsVendorSlot(parent);

    /// <summary>
    /// Enables the virtual functions of the NVIDIA GPU that <paramref name="parent"/> would be a virtual function of,
    /// when it has none yet, as NVIDIA's <c>sriov-manage -e</c> does: all of them (<c>sriov_totalvfs</c>), since the
    /// count cannot change later without taking every one away again. Nothing is done under the <c>mdevctl</c> name.
    /// </summary>
    /// <returns>Whether virtual functions were enabled.</returns>
    /// <exception cref="SysfsException">The kernel refused to enable them.</exception>
    public bool EnableVirtualFunctionsFor(string parent)
    {
        if (_vendor is null || !PciAddress.TryParse(parent, out var wanted))
        {
            return false;
        }
        foreach (var function in Sysfs.GetPciFunctionNames())
        {
            if (Sysfs.GetSriovLayout(function) is { NumVfs: 0 } layout
                && Enumerable.Range(0, layout.TotalVfs).Any(index => layout.VirtualFunction(index) == wanted)
                && Sysfs.TryLocatePciFunction(function)?.Driver == NvidiaDriver)
            {
                Sysfs.SetNumVfs(function, layout.TotalVfs);
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether a parent is a vendor-specific VFIO slot (a virtual function with <c>nvidia/current_vgpu_type</c>).</summary>
    public bool IsVendorSlot(string parent) => _vendor is not null && !Sysfs.ParentExists(parent) && _vendor.IsSlot(parent);

    /// <summary>A parent's types, ordered by id.</summary>
    /// <exception cref="SysfsException">As <see cref="SysfsRoot.GetTypes"/>.</exception>
    public IReadOnlyList<MdevTypeInfo> Types(string parent) => IsVendorSlot(parent) ? _vendor!.Types(parent) : Sysfs.GetTypes(parent);

    // A parent that fails to read and is gone was unplugged meanwhile, as a vanishing device is. One that is
    // there again may have been unplugged and re-plugged in between: it is read once more, and then fails for real.
    internal IReadOnlyList<MdevTypeInfo>? TypesUnlessUnplugged(string parent)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return Types(parent);
            }
            catch (SysfsException) when (!ParentExists(parent))
            {
                return null;
            }
            catch (SysfsException) when (attempt == 1)
            {
            }
        }
    }

    /// <summary>The vGPU on a vendor-specific VFIO slot, if it has one.</summary>
    internal bool TryGetVendorDevice(string slot, out ActiveDevice device)
    {
        device = null!;
        return _vendor is not null && _vendor.TryGetActive(slot, out device);
    }

    /// <summary>The devices that run now: mdev's in their bus order, then the vendor-specific ones by function.</summary>
    public IReadOnlyList<ActiveDevice> Active() =>
        _vendor is null ? Sysfs.GetActiveDevices() : [.. Sysfs.GetActiveDevices(), .. _vendor.Active()];

    /// <summary>A running device by its UUID.</summary>
    public bool TryGetActive(Guid uuid, out ActiveDevice device)
    {
        if (Sysfs.TryGetActiveDevice(uuid, out device))
        {
            return true;
        }
        device = _vendor?.Active().FirstOrDefault(candidate => candidate.Uuid == uuid)!;
        return device is not null;
    }

    /// <summary>Makes a device of a type on a parent.</summary>
    /// <exception cref="SysfsException">The kernel refused, with its errno.</exception>
    public void Create(string parent, string type, Guid uuid)
    {
        if (IsVendorSlot(parent))
        {
            _vendor!.Create(parent, type, uuid);
        }
        else
        {
            Sysfs.CreateDevice(parent, type, uuid);
        }
    }

    /// <summary>Removes a running device.</summary>
    /// <exception cref="SysfsException">The device does not exist (ENOENT) or the kernel refused.</exception>
    public void Remove(Guid uuid)
    {
        if (!Sysfs.TryGetActiveDevice(uuid, out _) && TryGetActive(uuid, out var vendor))
        {
            _vendor!.Remove(vendor.Parent);
        }
        else
        {
            Sysfs.RemoveDevice(uuid);
        }
    }
}
