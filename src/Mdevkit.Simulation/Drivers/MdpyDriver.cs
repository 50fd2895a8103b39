using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// The kernel's <c>mdpy</c> sample: virtual displays of three resolutions from one pool of devices.
/// It has no availability hook, so the core counts for it and refuses with EUSERS when the pool is empty.
/// </summary>
public sealed class MdpyDriver(int maxInstances) : MdevDriver<MdpyDriver.DisplayType>, IDescriptionHook
{
    /// <summary>The module parameter <c>count</c>'s default.</summary>
    public const int DefaultMaxInstances = 4;

    private static readonly DisplayType[] s_types =
    [
        new("vga", "mdpy-vga", 640, 480),
        new("xga", "mdpy-xga", 1024, 768),
        new("hd", "mdpy-hd", 1920, 1080),
    ];

    /// <summary>An mdpy type: its framebuffer resolution.</summary>
    public sealed record DisplayType(string SysfsName, string PrettyName, int Width, int Height) : MdevTypeSpec(SysfsName, PrettyName);

    /// <summary>The virtual parent <c>sys/devices/virtual/mdpy/mdpy</c>.</summary>
    public static ParentBlueprint Blueprint(ParentSpec spec)
    {
        VendorDrivers.Accept(spec, "maxInstances");
        var count = VendorDrivers.Positive(spec.MaxInstances, DefaultMaxInstances, "maxInstances");
        return SampleParent.Blueprint("mdpy", () => new MdpyDriver(count));
    }

    /// <inheritdoc/>
    public override string Name => "mdpy";

    /// <inheritdoc/>
    public override string DeviceApi => "vfio-pci";

    /// <inheritdoc/>
    public override uint MaxInstances => (uint)maxInstances;

    /// <inheritdoc/>
    protected override IReadOnlyList<DisplayType> DriverTypes => s_types;

    /// <inheritdoc/>
    public string ShowDescription(MdevTypeSpec type) => $"virtual display, {Own(type).Width}x{Own(type).Height} framebuffer\n";

    /// <inheritdoc/>
    protected override Errno Probe(MdevDevice device, DisplayType type) => Errno.None;

    /// <inheritdoc/>
    protected override void Remove(MdevDevice device, DisplayType type)
    {
        // The framebuffer goes with the device; the core returns the instance to the pool.
    }

    /// <inheritdoc/>
    protected override IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, DisplayType type) =>
        [VendorAttribute.ReadOnly("vendor/resolution", () => $"{type.Width}x{type.Height}\n")];
}
