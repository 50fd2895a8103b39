using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// s390 <c>vfio_ccw</c>: an I/O subchannel bound to <c>vfio_ccw</c> passes through as one device. The
/// driver has no availability hook, so the core counts its single instance and refuses a second with EUSERS.
/// </summary>
public sealed class VfioCcwDriver(bool operational) : MdevDriver<MdevTypeSpec>
{
    private static readonly MdevTypeSpec[] s_types = [new("io", "I/O subchannel (Non-QDIO)")];

    /// <summary>The subchannel at <paramref name="address"/> on channel subsystem <c>css&lt;cssid&gt;</c>.</summary>
    public static ParentBlueprint Blueprint(ParentSpec spec, string address)
    {
        VendorDrivers.Accept(spec, "operational");
        var subchannel = VendorDrivers.ParseSubchannel(address);
        var name = subchannel.ToString();
        var isOperational = spec.Operational ?? true;
        return new ParentBlueprint(
            Name: name,
            DevicePath: $"sys/devices/css{subchannel.Css:x}/{name}",
            DriverString: "vfio_ccw",
            BoundDriverPath: "sys/bus/css/drivers/vfio_ccw",
            SubsystemPath: "sys/bus/css",
            // Channel I/O does not go through an IOMMU; only the mdev gets its (emulated) group.
            HasIommuGroup: false,
            CreateDriver: () => new VfioCcwDriver(isOperational));
    }

    /// <inheritdoc/>
    public override string Name => "vfio_ccw_mdev";

    /// <inheritdoc/>
    public override string DeviceApi => "vfio-ccw";

    /// <inheritdoc/>
    public override uint MaxInstances => 1;

    /// <inheritdoc/>
    protected override IReadOnlyList<MdevTypeSpec> DriverTypes => s_types;

    /// <summary>A subchannel that is not operational cannot be driven: ENODEV.</summary>
    protected override Errno Probe(MdevDevice device, MdevTypeSpec type) => operational ? Errno.None : Errno.ENODEV;

    /// <inheritdoc/>
    protected override void Remove(MdevDevice device, MdevTypeSpec type)
    {
        // The subchannel goes back to idle; the core returns the instance.
    }
}
