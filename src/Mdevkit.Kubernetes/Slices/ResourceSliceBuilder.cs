using System.Globalization;
using k8s.Models;
using Mdevkit.Management.Planning;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>
/// Turns a node's capacity models into <c>resource.k8s.io/v1</c> ResourceSlices: one pool named after the node, one
/// counter set per parent whose types share its capacity, and one device per instance of each type that could be made,
/// consuming the counters as the model says (docs/kubernetes.md, "ResourceSlices: how capacity is published").
/// Devices that run but were not made by the driver take their share off what is published; the driver's own stay in,
/// since the scheduler subtracts the claims they were allocated to.
/// </summary>
public static class ResourceSliceBuilder
{
    /// <summary>Exclusive parents: one type at a time, each device taking the least common multiple of the maxima over the type's maximum.</summary>
    public const string ShareCounter = "share";

    /// <summary>Shared-pool parents: the pool, in the model's cost units.</summary>
    public const string PoolCounter = "pool";

    /// <summary>One-size SR-IOV GPUs: the framebuffer in MiB.</summary>
    public const string FramebufferCounter = "framebuffer";

    /// <summary>SR-IOV GPUs: the virtual functions, one a device.</summary>
    public const string VfsCounter = "vfs";

    /// <summary>Device attribute: the type's name (<c>GRID T4-1B</c>, <c>NVIDIA L40S-24Q</c>), when sysfs or the model gives one.</summary>
    public const string TypeNameAttribute = "typeName";

    /// <summary>Device attribute: the vendor, from the driver that prefixes the type-id (<c>nvidia</c>, <c>intel</c> for i915, <c>mtty</c>).</summary>
    public const string VendorAttribute = "vendor";

    /// <summary>Device attribute: the device API the type offers (<c>vfio-pci</c>, <c>vfio-ap</c>…).</summary>
    public const string DeviceApiAttribute = "deviceApi";

    /// <summary>Device attribute: the framebuffer one device takes, in MiB, where the model or the type states it.</summary>
    public const string FramebufferAttribute = "framebufferMiB";

    /// <summary>Device attribute: the parent's NUMA node, where the kernel states one.</summary>
    public const string NumaNodeAttribute = "numaNode";

    // A type the listing no longer shows is an NVIDIA vGPU that does not fit now (vGPU 17+ lists only those that do): a PCI device.
    private const string VgpuDeviceApi = "vfio-pci";

    // Device names end in "-<slot>": room for slots below 1000 keeps a stem the same whatever the count.
    private const int SlotReserve = 4;

    /// <summary>Builds the slices of <paramref name="node"/>'s pool at <paramref name="generation"/>.</summary>
    /// <param name="node">The node's parents with their models and running devices.</param>
    /// <param name="ownDevices">The UUIDs of the devices the driver made (for prepared claims).</param>
    /// <param name="generation">The pool generation every slice carries.</param>
    /// <returns>Counter slices first, then device slices; each within the API's limits (<see cref="SliceLimits"/>).</returns>
    public static IReadOnlyList<V1ResourceSlice> Build(NodeCapacity node, IReadOnlySet<Guid> ownDevices, long generation)
    {
        var parents = node.Parents.Select(parent => Offer(parent, ownDevices)).ToList();
        var setNames = UniqueLabels(parents.Where(parent => parent.Counters.Count > 0).Select(parent => (IReadOnlyList<string>)[parent.Parent.Model.Parent]), 0);
        var stems = UniqueLabels(parents.SelectMany(parent => parent.Offers.Select(offer => (IReadOnlyList<string>)[parent.Parent.Model.Parent, offer.Type.Type])), SlotReserve);
        var counterSets = parents.Where(parent => parent.Counters.Count > 0).Select(parent => new V1CounterSet
        {
            Name = setNames[Key(parent.Parent.Model.Parent)],
            Counters = parent.Counters.ToDictionary(counter => counter.Key, counter => Counter(counter.Value)),
        }).ToList();
        var devices = parents.SelectMany(parent => parent.Offers.SelectMany(offer => Enumerable.Range(0, offer.Count).Select(slot =>
            Device($"{stems[Key(parent.Parent.Model.Parent, offer.Type.Type)]}-{slot.ToString(CultureInfo.InvariantCulture)}", parent,
                offer, parent.Counters.Count > 0 ? setNames[Key(parent.Parent.Model.Parent)] : null)))).ToList();

        var specs = new List<V1ResourceSliceSpec>();
        specs.AddRange(counterSets.Chunk(SliceLimits.CounterSetsPerSlice).Select(sets => new V1ResourceSliceSpec { SharedCounters = [.. sets] }));
        var slice = new List<V1Device>();
        foreach (var device in devices)
        {
            var limit = slice.Append(device).Any(SliceLimits.NeedsSmallSlice) ? SliceLimits.DevicesPerSliceWithCounters : SliceLimits.DevicesPerSlice;
            if (slice.Count + 1 > limit)
            {
                specs.Add(new V1ResourceSliceSpec { Devices = slice });
                slice = [];
            }
            slice.Add(device);
        }
        if (slice.Count > 0)
        {
            specs.Add(new V1ResourceSliceSpec { Devices = slice });
        }
        return [.. specs.Select((spec, index) => new V1ResourceSlice
        {
            ApiVersion = "resource.k8s.io/v1",
            Kind = "ResourceSlice",
            Metadata = new V1ObjectMeta { Name = SliceName(node.NodeName, index) },
            Spec = spec with
            {
                Driver = DraNames.Driver,
                NodeName = node.NodeName,
                Pool = new V1ResourcePool { Name = node.NodeName, Generation = generation, ResourceSliceCount = specs.Count },
            },
        })];
    }

    /// <summary>The name of a node's slice number <paramref name="index"/>: <c>&lt;node&gt;-mdev-&lt;index&gt;</c>, hashed when too long for an object name.</summary>
    public static string SliceName(string nodeName, int index)
    {
        var name = $"{nodeName}-mdev-{index.ToString(CultureInfo.InvariantCulture)}";
        return name.Length <= SliceLimits.MaxObjectNameLength ? name : $"{DnsLabel.Hashed([nodeName], 16)}-mdev-{index.ToString(CultureInfo.InvariantCulture)}";
    }

    // What a parent offers beside the devices the driver did not make: its counters, and per type the devices to publish.
    private sealed record ParentOffer(SliceParent Parent, IReadOnlyDictionary<string, long> Counters, IReadOnlyList<TypeOffer> Offers);

    private sealed record TypeOffer(TypeCapacity Type, int Count, IReadOnlyDictionary<string, long> Consumes, string? Group);

    private static ParentOffer Offer(SliceParent parent, IReadOnlySet<Guid> ownDevices)
    {
        var model = parent.Model;
        var foreign = parent.Devices.Where(device => !ownDevices.Contains(device.Uuid)).CountBy(device => device.Type).ToDictionary();
        var foreignTotal = foreign.Values.Sum();
        var freeSlots = model.Slots is { } slots ? slots - foreignTotal : int.MaxValue;
        var offered = model.Types.Where(type => type.Max > 0 && Fits(type)).ToList();
        Dictionary<string, long> counters = [];
        List<TypeOffer> offers;
        switch (model.Kind)
        {
            case CapacityKind.Exclusive:
            {
                // Every type's maximum divides the share, so n devices of one type fit exactly when n ≤ its maximum.
                var share = offered.Aggregate(1L, (lcm, type) => Lcm(lcm, type.Max));
                var held = foreign.Keys.ToList();
                counters[ShareCounter] = share - offered.Sum(type => foreign.GetValueOrDefault(type.Type) * (share / type.Max));
                offers = [.. offered.Where(type => held.Count == 0 || held.SequenceEqual([type.Type]))
                    .Select(type => new TypeOffer(type, type.Max - foreign.GetValueOrDefault(type.Type), Consumption(ShareCounter, share / type.Max), Group(type.Type)))];
                break;
            }
            case CapacityKind.SharedPool:
                counters[PoolCounter] = model.Pool!.Value - foreign.Sum(count => (long)count.Value * (Find(count.Key)?.Cost ?? 0));
                offers = [.. offered.Select(type => new TypeOffer(type, type.Max - foreign.GetValueOrDefault(type.Type), Consumption(PoolCounter, type.Cost!.Value), null))];
                break;
            case CapacityKind.OneSize:
            {
                // The framebuffer is what the largest size fills; one size at a time is the groups' work.
                var sized = offered.Where(type => type.Size is not null).ToList();
                var heldSizes = foreign.Keys.Select(type => Find(type)?.Size).Distinct().ToList();
                counters[FramebufferCounter] = sized.Select(type => (long)type.Size!.Value * type.Max).DefaultIfEmpty(0).Max()
                    - foreign.Sum(count => (long)count.Value * (Find(count.Key)?.Size ?? 0));
                offers = [.. sized.Where(type => heldSizes.Count == 0 || heldSizes.SequenceEqual([type.Size]))
                    .Select(type => new TypeOffer(type, type.Max - foreignTotal, Consumption(FramebufferCounter, type.Size!.Value),
                        Group($"fb-{type.Size!.Value.ToString(CultureInfo.InvariantCulture)}")))];
                break;
            }
            default:
                // Each device is an instance nothing else takes: counters would add nothing and halve what a slice holds.
                offers = [.. offered.Select(type => new TypeOffer(type, type.Max - foreign.GetValueOrDefault(type.Type), new Dictionary<string, long>(), null))];
                break;
        }
        if (model.Slots is not null)
        {
            counters[VfsCounter] = freeSlots;
            offers = [.. offers.Select(offer => offer with { Consumes = new Dictionary<string, long>(offer.Consumes) { [VfsCounter] = 1 } })];
        }
        counters = counters.ToDictionary(counter => counter.Key, counter => Math.Max(0, counter.Value));
        // A device that could never be allocated is not worth a place in a slice.
        offers = [.. offers.Select(offer => offer with { Count = Math.Min(offer.Count, freeSlots) })
            .Where(offer => offer.Count > 0 && offer.Consumes.All(consumed => consumed.Value <= counters[consumed.Key]))];
        return new ParentOffer(parent, counters, offers);

        TypeCapacity? Find(string type) => model.Types.FirstOrDefault(candidate => candidate.Type == type);

        // The API takes string attributes of at most 64 characters: a parent or type-id beyond cannot be named to prepare.
        bool Fits(TypeCapacity type) => model.Parent.Length <= SliceLimits.MaxStringAttributeLength && type.Type.Length <= SliceLimits.MaxStringAttributeLength;
    }

    private static V1Device Device(string name, ParentOffer parent, TypeOffer offer, string? counterSet)
    {
        var model = parent.Parent.Model;
        var info = parent.Parent.Types.FirstOrDefault(type => type.Id == offer.Type.Type);
        var attributes = new Dictionary<string, V1DeviceAttribute>
        {
            [DraNames.ParentAttribute] = new() { StringValue = model.Parent },
            [DraNames.TypeAttribute] = new() { StringValue = offer.Type.Type },
            [VendorAttribute] = new() { StringValue = Vendor(offer.Type.Type) },
            [DeviceApiAttribute] = new() { StringValue = info?.DeviceApi ?? VgpuDeviceApi },
        };
        if ((info?.Name ?? offer.Type.Name) is { Length: > 0 and <= SliceLimits.MaxStringAttributeLength } typeName)
        {
            attributes[TypeNameAttribute] = new() { StringValue = typeName };
        }
        if ((offer.Type.Size ?? (info is null ? null : VgpuFramebuffer.MiB(info))) is { } framebuffer)
        {
            attributes[FramebufferAttribute] = new() { IntValue = framebuffer };
        }
        if (parent.Parent.NumaNode is { } numa)
        {
            attributes[NumaNodeAttribute] = new() { IntValue = numa };
        }
        return new V1Device
        {
            Name = name,
            Attributes = attributes,
            ConsumesCounters = counterSet is null ? null :
            [
                new V1DeviceCounterConsumption
                {
                    CounterSet = counterSet,
                    Counters = offer.Consumes.ToDictionary(consumed => consumed.Key, consumed => Counter(consumed.Value)),
                    CompatibilityGroups = offer.Group is null ? null : [offer.Group],
                },
            ],
        };
    }

    private static Dictionary<string, long> Consumption(string counter, long value) => new() { [counter] = value };

    private static V1Counter Counter(long value) => new() { Value = new ResourceQuantity(value.ToString(CultureInfo.InvariantCulture)) };

    private static string Group(string name) => DnsLabel.Readable([name]) ?? DnsLabel.Hashed([name]);

    // mdev type-ids are "<driver>-<type>": the driver names the vendor, i915 being Intel's.
    private static string Vendor(string type)
    {
        var driver = type.Split('-', 2)[0].ToLowerInvariant();
        return driver == "i915" ? "intel" : driver;
    }

    private static long Lcm(long a, long b) => checked(a / Gcd(a, b) * b);

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    private static string Key(params IReadOnlyList<string> parts) => string.Join('\0', parts);

    // Readable labels where they are unique and fit; hashed ones for those that would merge or not fit.
    private static Dictionary<string, string> UniqueLabels(IEnumerable<IReadOnlyList<string>> names, int reserve)
    {
        var distinct = names.DistinctBy(name => Key(name)).ToList();
        var readable = distinct.ToDictionary(name => Key(name), name => DnsLabel.Readable(name, reserve));
        var clashing = readable.Values.OfType<string>().CountBy(label => label).Where(count => count.Value > 1).Select(count => count.Key).ToHashSet();
        var labels = distinct.ToDictionary(name => Key(name), name => readable[Key(name)] is { } label && !clashing.Contains(label) ? label : DnsLabel.Hashed(name, reserve));
        return labels.Values.Distinct().Count() == labels.Count
            ? labels
            : throw new InvalidOperationException("Two parents or types of this node hash to the same device name");
    }
}
