using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// The kernel's <c>mtty</c> sample: virtual serial ports from one pool shared by both types
/// (<c>mtty-1</c> takes one port, <c>mtty-2</c> two). The driver counts, and refuses with ENOSPC.
/// </summary>
public sealed class MttyDriver : MdevDriver<MttyDriver.PortType>, IAvailabilityHook
{
    /// <summary>The kernel module's pool size (<c>MAX_MTTYS</c>).</summary>
    public const int DefaultPorts = 24;

    private static readonly PortType[] s_types =
    [
        new("1", "Single port serial", 1),
        new("2", "Dual port serial", 2),
    ];

    private readonly ResourcePool _pool;

    /// <summary>Creates the driver with a pool of <paramref name="ports"/> ports.</summary>
    public MttyDriver(int ports) => _pool = new ResourcePool(ports);

    /// <summary>An mtty type: how many ports a device takes.</summary>
    public sealed record PortType(string SysfsName, string PrettyName, int Ports) : MdevTypeSpec(SysfsName, PrettyName);

    /// <summary>The virtual parent <c>sys/devices/virtual/mtty/mtty</c>.</summary>
    public static ParentBlueprint Blueprint(ParentSpec spec)
    {
        VendorDrivers.Accept(spec, "ports");
        var ports = VendorDrivers.Positive(spec.Ports, DefaultPorts, "ports");
        return SampleParent.Blueprint("mtty", () => new MttyDriver(ports));
    }

    /// <inheritdoc/>
    public override string Name => "mtty";

    /// <inheritdoc/>
    public override string DeviceApi => "vfio-pci";

    /// <inheritdoc/>
    protected override IReadOnlyList<PortType> DriverTypes => s_types;

    /// <inheritdoc/>
    public uint GetAvailable(MdevTypeSpec type) => (uint)(_pool.Available / Own(type).Ports);

    /// <inheritdoc/>
    protected override Errno Probe(MdevDevice device, PortType type) => _pool.TryTake(type.Ports) ? Errno.None : Errno.ENOSPC;

    /// <inheritdoc/>
    protected override void Remove(MdevDevice device, PortType type) => _pool.Give(type.Ports);

    /// <inheritdoc/>
    protected override IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, PortType type) =>
        [VendorAttribute.ReadOnly("vendor/sample_mdev_dev", () => $"This is MDEV {device.Name}\n")];
}
