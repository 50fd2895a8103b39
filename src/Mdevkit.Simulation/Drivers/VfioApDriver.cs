using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// s390 <c>vfio_ap</c>: each device is a matrix of crypto adapters × usage domains (the APQNs a guest
/// gets) plus control domains, built by writing numbers to its <c>assign_*</c> files. Only adapters and
/// domains the host reserved for vfio_ap can be assigned, and no APQN to two devices. The core counts
/// the instances (one per possible APQN).
/// </summary>
public sealed class VfioApDriver : MdevDriver<MdevTypeSpec>
{
    /// <summary>The adapters a profile reserves when it names none.</summary>
    public const string DefaultAdapters = "5-6";

    /// <summary>The usage domains a profile reserves when it names none.</summary>
    public const string DefaultDomains = "4,0x47";

    private static readonly MdevTypeSpec[] s_types = [new("passthrough", "VFIO AP Passthrough Device")];

    private readonly IReadOnlySet<int> _reservedAdapters;
    private readonly IReadOnlySet<int> _reservedDomains;

    // Stores come straight from the files, outside the core's lock, so the matrices have their own.
    private readonly Lock _lock = new();
    private readonly List<Matrix> _matrices = [];

    private VfioApDriver(IReadOnlySet<int> reservedAdapters, IReadOnlySet<int> reservedDomains)
    {
        _reservedAdapters = reservedAdapters;
        _reservedDomains = reservedDomains;
    }

    /// <summary>
    /// The singleton <c>sys/devices/vfio_ap/matrix</c>. It sits on the driver's own <c>matrix</c> bus, bound
    /// to that bus's driver named <c>vfio_ap</c> (hence the type id <c>vfio_ap-passthrough</c>); the
    /// <c>vfio_ap</c> driver on the <c>ap</c> bus is a different one, which holds the reserved queues.
    /// </summary>
    public static ParentBlueprint Blueprint(ParentSpec spec)
    {
        VendorDrivers.Accept(spec, "adapters", "domains");
        if (spec.Address is not null || spec.Repeat is not null)
        {
            throw new ProfileException("the AP matrix is a single device: 'address' and 'repeat' do not apply");
        }
        var adapters = IdList.Parse(spec.Adapters ?? DefaultAdapters, "adapters");
        var domains = IdList.Parse(spec.Domains ?? DefaultDomains, "domains");
        return new ParentBlueprint(
            Name: "matrix",
            DevicePath: "sys/devices/vfio_ap/matrix",
            DriverString: "vfio_ap",
            BoundDriverPath: "sys/bus/matrix/drivers/vfio_ap",
            SubsystemPath: "sys/bus/matrix",
            HasIommuGroup: false,
            CreateDriver: () => new VfioApDriver(adapters, domains));
    }

    /// <inheritdoc/>
    public override string Name => "vfio_ap_mdev";

    /// <inheritdoc/>
    public override string DeviceApi => "vfio-ap";

    /// <summary>256 adapters × 256 domains: one device per APQN at the most.</summary>
    public override uint MaxInstances => 65536;

    /// <inheritdoc/>
    protected override IReadOnlyList<MdevTypeSpec> DriverTypes => s_types;

    /// <summary>A new device starts with an empty matrix.</summary>
    protected override Errno Probe(MdevDevice device, MdevTypeSpec type)
    {
        var matrix = new Matrix();
        lock (_lock)
        {
            _matrices.Add(matrix);
        }
        device.DriverData = matrix;
        return Errno.None;
    }

    /// <summary>The device's APQNs become free for other devices.</summary>
    protected override void Remove(MdevDevice device, MdevTypeSpec type)
    {
        lock (_lock)
        {
            _matrices.Remove((Matrix)device.DriverData!);
        }
    }

    /// <inheritdoc/>
    protected override IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, MdevTypeSpec type)
    {
        var matrix = (Matrix)device.DriverData!;
        return
        [
            Store("assign_adapter", id => AssignQueues(matrix, matrix.Adapters, _reservedAdapters, id)),
            Store("unassign_adapter", id => Unassign(matrix.Adapters, id)),
            Store("assign_domain", id => AssignQueues(matrix, matrix.Domains, _reservedDomains, id)),
            Store("unassign_domain", id => Unassign(matrix.Domains, id)),
            // Control domains only let the guest administer a domain; they are neither reserved nor exclusive.
            Store("assign_control_domain", id => Assign(matrix.ControlDomains, id)),
            Store("unassign_control_domain", id => Unassign(matrix.ControlDomains, id)),
            VendorAttribute.ReadOnly("matrix", () => Show(matrix.Apqns)),
            VendorAttribute.ReadOnly("control_domains", () => Show(() => matrix.ControlDomains.Select(id => $"{id:x4}"))),
        ];
    }

    // A write-only attribute taking one number: kstrtoul's own errno for bad text, ENODEV beyond the last id.
    private VendorAttribute Store(string name, Func<int, Errno> change) => VendorAttribute.WriteOnly(name, (data, _) =>
    {
        var parsed = KernelNumber.ParseUnsigned(data, out var value);
        if (parsed != Errno.None)
        {
            return parsed;
        }
        if (value > IdList.MaxId)
        {
            return Errno.ENODEV;
        }
        lock (_lock)
        {
            return change((int)value);
        }
    });

    // An adapter or domain adds a row or column of APQNs: all must be vfio_ap's and none another device's.
    private Errno AssignQueues(Matrix matrix, SortedSet<int> ids, IReadOnlySet<int> reserved, int id)
    {
        if (!reserved.Contains(id))
        {
            return Errno.EADDRNOTAVAIL;
        }
        if (!ids.Add(id))
        {
            return Errno.None;
        }
        if (_matrices.Any(other => other != matrix && other.SharesApqnWith(matrix)))
        {
            ids.Remove(id);
            return Errno.EADDRINUSE;
        }
        return Errno.None;
    }

    private static Errno Assign(SortedSet<int> ids, int id)
    {
        ids.Add(id);
        return Errno.None;
    }

    private static Errno Unassign(SortedSet<int> ids, int id)
    {
        ids.Remove(id);
        return Errno.None;
    }

    private string Show(Func<IEnumerable<string>> lines)
    {
        lock (_lock)
        {
            return string.Concat(lines().Select(line => line + "\n"));
        }
    }

    // One device's assignments, in ascending order as the kernel walks its bitmaps.
    private sealed class Matrix
    {
        public SortedSet<int> Adapters { get; } = [];

        public SortedSet<int> Domains { get; } = [];

        public SortedSet<int> ControlDomains { get; } = [];

        public bool SharesApqnWith(Matrix other) => Adapters.Overlaps(other.Adapters) && Domains.Overlaps(other.Domains);

        // The matrix file: every adapter.domain pair, or the half that is assigned while the other is empty.
        public IEnumerable<string> Apqns() =>
            Adapters.Count == 0 ? Domains.Select(domain => $".{domain:x4}")
            : Domains.Count == 0 ? Adapters.Select(adapter => $"{adapter:x2}.")
            : Adapters.SelectMany(adapter => Domains.Select(domain => $"{adapter:x2}.{domain:x4}"));
    }
}
