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
    /// when it has none yet (<see cref="EnableVirtualFunctions"/>). Nothing is done under the <c>mdevctl</c> name.
    /// </summary>
    /// <returns>Whether virtual functions were enabled.</returns>
    /// <exception cref="SysfsException">The kernel refused to enable them.</exception>
    public bool EnableVirtualFunctionsFor(string parent)
    {
        if (!PciAddress.TryParse(parent, out var wanted)
            || NvidiaGpus().FirstOrDefault(gpu => !gpu.Enabled && gpu.VirtualFunctions.Contains(wanted.ToString())) is not { } gpu)
        {
            return false;
        }
        EnableVirtualFunctions(gpu);
        return true;
    }

    /// <summary>
    /// Enables all of an SR-IOV GPU's virtual functions (<c>sriov_totalvfs</c>), as NVIDIA's <c>sriov-manage -e</c>
    /// does, since the count cannot change later without taking every one away again.
    /// </summary>
    /// <exception cref="SysfsException">The kernel refused to enable them.</exception>
    public void EnableVirtualFunctions(SriovGpu gpu) => Sysfs.SetNumVfs(gpu.Function, gpu.TotalVfs);

    /// <summary>Disables an SR-IOV GPU's virtual functions (writes 0 to <c>sriov_numvfs</c>).</summary>
    /// <exception cref="SysfsException">The kernel refused, e.g. EBUSY while one carries a vGPU.</exception>
    public void DisableVirtualFunctions(string gpu) => Sysfs.SetNumVfs(gpu, 0);

    /// <summary>
    /// NVIDIA's SR-IOV GPUs (physical functions bound to <c>nvidia</c>), in byte order, each with the virtual functions
    /// it has, or would have once enabled. None under the <c>mdevctl</c> name, which knows no GPU behind a parent.
    /// </summary>
    /// <exception cref="SysfsException">A function's SR-IOV attributes cannot be read.</exception>
    public IReadOnlyList<SriovGpu> NvidiaGpus()
    {
        if (_vendor is null)
        {
            return [];
        }
        var gpus = new List<SriovGpu>();
        foreach (var function in Sysfs.GetPciFunctionNames())
        {
            if (Sysfs.GetSriovLayout(function) is { } layout && Sysfs.TryLocatePciFunction(function)?.Driver == NvidiaDriver)
            {
                gpus.Add(new SriovGpu(function, layout.TotalVfs, layout.NumVfs > 0,
                    layout.NumVfs > 0 ? Sysfs.GetVirtualFunctions(function) : [.. Enumerable.Range(0, layout.TotalVfs).Select(index => layout.VirtualFunction(index).ToString())]));
            }
        }
        return gpus;
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

/// <summary>An NVIDIA GPU with SR-IOV: the physical function, and the virtual functions its vGPUs live on.</summary>
/// <param name="Function">The physical function's address.</param>
/// <param name="TotalVfs">How many virtual functions it can have (<c>sriov_totalvfs</c>).</param>
/// <param name="Enabled">Whether its virtual functions exist now.</param>
/// <param name="VirtualFunctions">Their addresses in index order: the ones that exist, or, when none do, all it would have once enabled.</param>
public sealed record SriovGpu(string Function, int TotalVfs, bool Enabled, IReadOnlyList<string> VirtualFunctions);
