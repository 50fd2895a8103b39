using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// Intel GVT-g on an integrated GPU: vGPUs of four sizes carved out of the GPU's aperture (low graphics
/// memory), hidden (high) graphics memory and fence registers, after the host keeps its share of each.
/// Types mix freely; the larger ones run out first. The driver counts, and refuses with ENOSPC.
/// </summary>
public sealed class GvtDriver : MdevDriver<GvtDriver.GvtType>, IAvailabilityHook, IDescriptionHook
{
    /// <summary>The aperture of a typical part, in MB.</summary>
    public const int DefaultApertureMB = 1024;

    /// <summary>The hidden graphics memory of a typical part (a 4 GB GGTT less the aperture), in MB.</summary>
    public const int DefaultHiddenMB = 3072;

    /// <summary>The GPU's fence registers.</summary>
    public const int DefaultFences = 32;

    // What the host's own i915 keeps of each resource.
    private const int HostLowMB = 128;
    private const int HostHighMB = 384;
    private const int HostFences = 4;

    // GVT_MAX_VGPU is 8 and id 0 belongs to the idle vGPU, so guests get ids 1..7; the id allocator
    // refuses an eighth with ENOSPC even when memory would allow more (available_instances does not know).
    private const int MaxVgpus = 7;

    private static readonly GvtType[] s_types =
    [
        new("GVTg_V5_8", 64, 384, 4, 2, "1024x768"),
        new("GVTg_V5_4", 128, 512, 4, 4, "1920x1200"),
        new("GVTg_V5_2", 256, 1024, 4, 8, "1920x1200"),
        new("GVTg_V5_1", 512, 2048, 4, 16, "1920x1200"),
    ];

    // Each pool is atomic on its own; taking from all three at once relies on the core calling probe under its lock.
    private readonly ResourcePool _low;
    private readonly ResourcePool _high;
    private readonly ResourcePool _fences;
    private readonly GvtType[] _types;
    // Which vGPU ids are taken; slot 0 stays free for the idle vGPU.
    private readonly bool[] _ids = new bool[MaxVgpus + 1];

    /// <summary>Creates the driver for a GPU with the given resources, before the host's share is taken.</summary>
    public GvtDriver(int apertureMB, int hiddenMB, int fences)
    {
        _low = new ResourcePool(apertureMB - HostLowMB);
        _high = new ResourcePool(hiddenMB - HostHighMB);
        _fences = new ResourcePool(fences - HostFences);
        // Only types that fit the fresh aperture are registered, so a small aperture hides the big types.
        _types = [.. s_types.Where(type => _low.Available / type.LowMB != 0)];
    }

    /// <summary>A GVT-g type: what one vGPU takes, its scheduling weight and its display's resolution.</summary>
    public sealed record GvtType(string SysfsName, int LowMB, int HighMB, int Fences, int Weight, string Resolution)
        : MdevTypeSpec(SysfsName, PrettyName: null);

    // CoffeeLake-S GT2 [UHD Graphics 630], a GVT-g capable VGA-compatible controller.
    private static readonly PciId s_uhd630 = new(0x8086, 0x3e92, 0x030000);

    /// <summary>The integrated GPU at <paramref name="address"/> bound to <c>i915</c>.</summary>
    public static ParentBlueprint Blueprint(ParentSpec spec, string address)
    {
        VendorDrivers.Accept(spec, "apertureMB", "hiddenMB", "fences");
        var aperture = AboveHostShare(spec.ApertureMB, DefaultApertureMB, HostLowMB, "apertureMB");
        var hidden = AboveHostShare(spec.HiddenMB, DefaultHiddenMB, HostHighMB, "hiddenMB");
        var fences = AboveHostShare(spec.Fences, DefaultFences, HostFences, "fences");
        return PciParent.Blueprint(address, "i915", s_uhd630, () => new GvtDriver(aperture, hidden, fences));
    }

    /// <inheritdoc/>
    public override string Name => "intel_vgpu_mdev";

    /// <inheritdoc/>
    public override string DeviceApi => "vfio-pci";

    /// <inheritdoc/>
    protected override IReadOnlyList<GvtType> DriverTypes => _types;

    /// <inheritdoc/>
    public uint GetAvailable(MdevTypeSpec type)
    {
        var t = Own(type);
        return (uint)Math.Min(_low.Available / t.LowMB, Math.Min(_high.Available / t.HighMB, _fences.Available / t.Fences));
    }

    /// <inheritdoc/>
    public string ShowDescription(MdevTypeSpec type)
    {
        var t = Own(type);
        return $"low_gm_size: {t.LowMB}MB\nhigh_gm_size: {t.HighMB}MB\nfence: {t.Fences}\nresolution: {t.Resolution}\nweight: {t.Weight}\n";
    }

    /// <summary>Takes an id, then low memory, high memory and fences, giving back what it took if any is short.</summary>
    protected override Errno Probe(MdevDevice device, GvtType type)
    {
        var id = Array.IndexOf(_ids, false, 1);
        if (id < 0)
        {
            return Errno.ENOSPC;
        }
        if (!_low.TryTake(type.LowMB))
        {
            return Errno.ENOSPC;
        }
        if (!_high.TryTake(type.HighMB))
        {
            _low.Give(type.LowMB);
            return Errno.ENOSPC;
        }
        if (!_fences.TryTake(type.Fences))
        {
            _high.Give(type.HighMB);
            _low.Give(type.LowMB);
            return Errno.ENOSPC;
        }
        _ids[id] = true;
        device.DriverData = id;
        return Errno.None;
    }

    /// <inheritdoc/>
    protected override void Remove(MdevDevice device, GvtType type)
    {
        _ids[(int)device.DriverData!] = false;
        _fences.Give(type.Fences);
        _high.Give(type.HighMB);
        _low.Give(type.LowMB);
    }

    /// <inheritdoc/>
    protected override IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, GvtType type)
    {
        var id = (int)device.DriverData!;
        return [VendorAttribute.ReadOnly("intel_vgpu/vgpu_id", () => $"{id}\n")];
    }

    // A resource the host keeps part of must be larger than that part.
    private static int AboveHostShare(int? value, int defaultValue, int hostShare, string name)
    {
        var result = VendorDrivers.Positive(value, defaultValue, name);
        return result > hostShare
            ? result
            : throw new ProfileException($"'{name}' must be more than the host's own {hostShare}, not {result}");
    }
}
