using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// The kernel's <c>mbochs</c> sample: bochs-compatible displays whose video memory comes from one
/// pool, so the larger types run out first. The driver counts, and refuses with ENOSPC.
/// </summary>
public sealed class MbochsDriver(int memoryMB) : MdevDriver<MbochsDriver.MemoryType>, IAvailabilityHook, IDescriptionHook
{
    /// <summary>The module's default pool (<c>max_mbytes</c>).</summary>
    public const int DefaultMemoryMB = 256;

    private static readonly MemoryType[] s_types =
    [
        new("small", "mbochs-small", 4),
        new("medium", "mbochs-medium", 16),
        new("large", "mbochs-large", 64),
    ];

    private readonly ResourcePool _pool = new(memoryMB);

    /// <summary>An mbochs type: its video memory in MB.</summary>
    public sealed record MemoryType(string SysfsName, string PrettyName, int MemoryMB) : MdevTypeSpec(SysfsName, PrettyName);

    /// <summary>The virtual parent <c>sys/devices/virtual/mbochs/mbochs</c>.</summary>
    public static ParentBlueprint Blueprint(ParentSpec spec)
    {
        VendorDrivers.Accept(spec, "memoryMB");
        var memory = VendorDrivers.Positive(spec.MemoryMB, DefaultMemoryMB, "memoryMB");
        return SampleParent.Blueprint("mbochs", () => new MbochsDriver(memory));
    }

    /// <inheritdoc/>
    public override string Name => "mbochs";

    /// <inheritdoc/>
    public override string DeviceApi => "vfio-pci";

    /// <inheritdoc/>
    protected override IReadOnlyList<MemoryType> DriverTypes => s_types;

    /// <inheritdoc/>
    public uint GetAvailable(MdevTypeSpec type) => (uint)(_pool.Available / Own(type).MemoryMB);

    /// <inheritdoc/>
    public string ShowDescription(MdevTypeSpec type) => $"virtual display, {Own(type).MemoryMB} MB video memory\n";

    /// <inheritdoc/>
    protected override Errno Probe(MdevDevice device, MemoryType type) => _pool.TryTake(type.MemoryMB) ? Errno.None : Errno.ENOSPC;

    /// <inheritdoc/>
    protected override void Remove(MdevDevice device, MemoryType type) => _pool.Give(type.MemoryMB);

    /// <inheritdoc/>
    protected override IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, MemoryType type) =>
        [VendorAttribute.ReadOnly("vendor/memory", () => $"{type.MemoryMB} MB\n")];
}
