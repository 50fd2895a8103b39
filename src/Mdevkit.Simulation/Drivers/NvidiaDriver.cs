using System.Text;
using Mdevkit.Simulation.Profiles;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// NVIDIA vGPU on a time-sliced GPU (mdev on the physical function, before SR-IOV): a physical GPU hosts
/// one type at a time. With no vGPUs every type offers its <c>max_instance</c>; once a type is in use it
/// offers the rest and every other type offers 0. The driver counts; it refuses with EINVAL.
/// </summary>
public class NvidiaDriver : MdevDriver<NvidiaDriver.VgpuType>, IAvailabilityHook, IDescriptionHook
{
    /// <summary>The model a profile gets when it names none.</summary>
    public const string DefaultModel = "M60";

    // One physical GPU of each board (a Tesla M60 board carries two GM204s, each its own parent).
    // GM204GL [Tesla M60], a VGA-compatible controller.
    private static readonly PciId s_m60 = new(0x10de, 0x13f2, 0x030000);

    private static readonly Dictionary<string, VgpuType[]> s_models = new(StringComparer.Ordinal)
    {
        ["M60"] =
        [
            new("11", "GRID M60-0B", 2, 45, 512, "2560x1600", 16),
            new("12", "GRID M60-0Q", 2, 60, 512, "2560x1600", 16),
            new("13", "GRID M60-1A", 1, 60, 1024, "1280x1024", 8),
            new("14", "GRID M60-1B", 4, 45, 1024, "5120x2880", 8),
            new("15", "GRID M60-1Q", 4, 60, 1024, "5120x2880", 8),
            new("16", "GRID M60-2A", 1, 60, 2048, "1280x1024", 4),
            new("17", "GRID M60-2B", 4, 45, 2048, "5120x2880", 4),
            new("18", "GRID M60-2Q", 4, 60, 2048, "5120x2880", 4),
            new("19", "GRID M60-4A", 1, 60, 4096, "1280x1024", 2),
            new("20", "GRID M60-4Q", 4, 60, 4096, "5120x2880", 2),
            new("21", "GRID M60-8A", 1, 60, 8192, "1280x1024", 1),
            new("22", "GRID M60-8Q", 4, 60, 8192, "5120x2880", 1),
            new("210", "GRID M60-2B4", 4, 45, 2048, "5120x2880", 4),
            new("238", "GRID M60-1B4", 4, 45, 1024, "5120x2880", 8),
        ],
    };

    private readonly IReadOnlyList<VgpuType> _types;

    // The type on the GPU and its count; the core calls probe, remove and the hooks under its lock.
    private VgpuType? _active;
    private int _used;

    /// <summary>Creates the driver for one physical GPU offering <paramref name="types"/>.</summary>
    private NvidiaDriver(IReadOnlyList<VgpuType> types) => _types = types;

    /// <summary>A vGPU type: the profile's display heads, frame rate limit, framebuffer and how many fit on one GPU.</summary>
    public sealed record VgpuType(string SysfsName, string PrettyName, int Heads, int FrameRateLimit, int FramebufferMB, string MaxResolution, int MaxInstances)
        : MdevTypeSpec(SysfsName, PrettyName)
    {
        /// <summary>The one line the proprietary driver shows as the type's <c>description</c>.</summary>
        public string Description =>
            $"num_heads={Heads}, frl_config={FrameRateLimit}, framebuffer={FramebufferMB}M, max_resolution={MaxResolution}, max_instance={MaxInstances}\n";
    }

    /// <summary>The models whose type tables exist, of every era.</summary>
    public static IReadOnlyCollection<string> Models => [.. s_models.Keys, .. NvidiaSriov.Models];

    /// <summary>
    /// A GPU at <paramref name="address"/> bound to <c>nvidia</c>: a time-sliced one is the mdev parent itself,
    /// an SR-IOV one (<see cref="NvidiaSriov"/>) offers its vGPUs on virtual functions once they are enabled.
    /// </summary>
    public static ParentBlueprint Blueprint(ParentSpec spec, string address)
    {
        var model = spec.Model ?? DefaultModel;
        if (NvidiaSriov.TryBlueprint(spec, model, address) is { } sriov)
        {
            return sriov;
        }
        VendorDrivers.Accept(spec, "model", "hideUnavailableTypes");
        if (!s_models.TryGetValue(model, out var types))
        {
            throw new ProfileException($"unknown model '{model}' (known: {string.Join(", ", Models)})");
        }
        var hide = spec.HideUnavailableTypes ?? false;
        return PciParent.Blueprint(address, "nvidia", s_m60, () => hide ? new HidingNvidiaDriver(types) : new NvidiaDriver(types));
    }

    /// <inheritdoc/>
    public override string Name => "nvidia-vgpu-vfio";

    /// <inheritdoc/>
    public override string DeviceApi => "vfio-pci";

    /// <inheritdoc/>
    protected override IReadOnlyList<VgpuType> DriverTypes => _types;

    /// <inheritdoc/>
    public uint GetAvailable(MdevTypeSpec type) =>
        _active is null || _active == type ? (uint)(Own(type).MaxInstances - _used) : 0;

    /// <inheritdoc/>
    public string ShowDescription(MdevTypeSpec type) => Own(type).Description;

    /// <summary>
    /// Takes a slot of the GPU. A conflicting type or a full GPU fails with EINVAL: that is what users of
    /// the proprietary driver report seeing (mdevctl's "Invalid argument"); the exact errno per case is not published.
    /// </summary>
    protected override Errno Probe(MdevDevice device, VgpuType type)
    {
        if ((_active is not null && _active != type) || _used >= type.MaxInstances)
        {
            return Errno.EINVAL;
        }
        _active = type;
        _used++;
        return Errno.None;
    }

    /// <inheritdoc/>
    protected override void Remove(MdevDevice device, VgpuType type)
    {
        if (--_used == 0)
        {
            _active = null;
        }
    }

    /// <inheritdoc/>
    protected override IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, VgpuType type) => [VgpuParams()];

    /// <summary><c>nvidia/vgpu_params</c> of a new vGPU: management tools store <c>key=value</c> text in it and read it back.</summary>
    internal static VendorAttribute VgpuParams()
    {
        var parameters = "";
        return new VendorAttribute("nvidia/vgpu_params", SysfsAttribute.ReadWrite, () => parameters, (data, _) =>
        {
            parameters = Encoding.UTF8.GetString(data);
            return Errno.None;
        });
    }

    // The variant whose unavailable types vanish from mdev_supported_types instead of showing 0.
    private sealed class HidingNvidiaDriver(IReadOnlyList<VgpuType> types) : NvidiaDriver(types), ITypeVisibilityHook
    {
        public bool IsVisible(MdevTypeSpec type) => GetAvailable(type) > 0;
    }
}
