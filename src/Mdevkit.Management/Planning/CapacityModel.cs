using System.Text.Json.Serialization;

namespace Mdevkit.Management.Planning;

/// <summary>How creating a device of one type changes what the other types of the same parent offer.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CapacityKind>))]
public enum CapacityKind
{
    /// <summary>Types do not affect each other: each has its own instances.</summary>
    [JsonStringEnumMemberName("independent")]
    Independent,

    /// <summary>One type at a time: once a device of a type exists, every other type offers 0 (NVIDIA's time-sliced GPUs).</summary>
    [JsonStringEnumMemberName("exclusive")]
    Exclusive,

    /// <summary>Every type takes its cost from one pool (GVT-g's graphics memory, mtty's ports, mdpy's core counter; an SR-IOV GPU's framebuffer in mixed-size mode).</summary>
    [JsonStringEnumMemberName("shared-pool")]
    SharedPool,

    /// <summary>
    /// One size at a time (an SR-IOV GPU in NVIDIA's default, equal-size mode): once a device exists, only types of its
    /// <see cref="TypeCapacity.Size"/> are offered, and devices of those types count together against its maximum.
    /// </summary>
    [JsonStringEnumMemberName("one-size")]
    OneSize,
}

/// <summary>One type of a parent: how many fit on an idle parent, and what one costs from the pool.</summary>
/// <param name="Type">The type-id.</param>
/// <param name="Max">Instances an idle parent offers.</param>
/// <param name="Cost">Pool units one device takes (shared-pool only).</param>
/// <param name="Size">The framebuffer one device takes, in MiB, as the type states it (SR-IOV GPUs only).</param>
/// <param name="Name">
/// The type's name (SR-IOV GPUs only), kept because a vGPU 17+ GPU lists only the types that fit now, and NVIDIA's configs name types.
/// </param>
public sealed record TypeCapacity(string Type, int Max, int? Cost = null, int? Size = null, string? Name = null);

/// <summary>
/// What a parent can hold, as a rule over how many devices of each type it carries. Planning asks it
/// whether a set of counts fits and what each type still offers beside them.
/// </summary>
/// <param name="Parent">The parent device.</param>
/// <param name="Kind">How the types interact.</param>
/// <param name="Types">Every type, in the parent's order.</param>
/// <param name="Pool">The pool's size in cost units (shared-pool only).</param>
/// <param name="Verified">Whether the model reproduced every availability seen while probing.</param>
/// <param name="Slots">
/// For an SR-IOV GPU (the parent is then its physical function): the virtual functions that can hold a device, one each.
/// </param>
public sealed record CapacityModel(string Parent, CapacityKind Kind, IReadOnlyList<TypeCapacity> Types, int? Pool = null, bool Verified = true, int? Slots = null)
{
    /// <summary>The independent model of what the parent offers now, for a parent that was never probed.</summary>
    public static CapacityModel FromAvailability(string parent, IEnumerable<(string Type, int Available)> offer) =>
        new(parent, CapacityKind.Independent, [.. offer.Select(type => new TypeCapacity(type.Type, type.Available))], Verified: false);

    /// <summary>Whether the parent offers <paramref name="type"/> at all.</summary>
    public bool Offers(string type) => Types.Any(candidate => candidate.Type == type && candidate.Max > 0);

    /// <summary>How many more devices of <paramref name="type"/> fit beside <paramref name="counts"/>.</summary>
    public int Available(string type, IReadOnlyDictionary<string, int> counts)
    {
        var capacity = Find(type);
        if (capacity is null)
        {
            return 0;
        }
        var left = Kind switch
        {
            CapacityKind.Exclusive when counts.Any(count => count.Key != type && count.Value > 0) => 0,
            CapacityKind.OneSize when counts.Any(count => count.Value > 0 && Find(count.Key)?.Size != capacity.Size) => 0,
            CapacityKind.OneSize => capacity.Max - counts.Sum(count => count.Value),
            CapacityKind.SharedPool => Math.Min(capacity.Max - counts.GetValueOrDefault(type), (Pool!.Value - Used(counts)) / capacity.Cost!.Value),
            _ => capacity.Max - counts.GetValueOrDefault(type),
        };
        return Math.Max(0, Math.Min(left, FreeSlots(counts)));
    }

    /// <summary>Whether <paramref name="counts"/> fit on the parent together.</summary>
    public bool Fits(IReadOnlyDictionary<string, int> counts)
    {
        var used = counts.Where(count => count.Value > 0).ToList();
        if (used.Any(count => Find(count.Key) is not { } capacity || count.Value > capacity.Max) || FreeSlots(counts) < 0)
        {
            return false;
        }
        return Kind switch
        {
            CapacityKind.Exclusive => used.Count <= 1,
            CapacityKind.OneSize => used.Select(count => Find(count.Key)!.Size).Distinct().Count() <= 1
                && used.Sum(count => count.Value) <= used.Select(count => Find(count.Key)!.Max).DefaultIfEmpty(0).Min(),
            CapacityKind.SharedPool => Used(counts) <= Pool!.Value,
            _ => true,
        };
    }

    /// <summary>The share of the parent one more device of <paramref name="type"/> takes, for ordering big before small.</summary>
    public double Footprint(string type)
    {
        var capacity = Find(type);
        return capacity is null || capacity.Max == 0 ? 0
            : Kind == CapacityKind.SharedPool ? (double)capacity.Cost!.Value / Pool!.Value
            : 1.0 / capacity.Max;
    }

    /// <summary>The share of the parent that <paramref name="counts"/> leave free (0 full, 1 idle).</summary>
    public double Slack(IReadOnlyDictionary<string, int> counts) => Kind switch
    {
        CapacityKind.SharedPool => 1 - (double)Used(counts) / Pool!.Value,
        CapacityKind.Exclusive or CapacityKind.OneSize => counts.FirstOrDefault(count => count.Value > 0) is { Key: { } type }
            ? Find(type) is { Max: > 0 } capacity ? 1 - (double)counts.Sum(count => count.Value) / capacity.Max : 0
            : 1,
        _ => Types.Where(type => type.Max > 0).Select(type => 1 - (double)counts.GetValueOrDefault(type.Type) / type.Max).DefaultIfEmpty(0).Average(),
    };

    /// <summary>The framebuffer a device of <paramref name="type"/> takes on an SR-IOV GPU, in MiB, if known.</summary>
    public int? SizeOf(string type) => Find(type)?.Size;

    private TypeCapacity? Find(string type) => Types.FirstOrDefault(candidate => candidate.Type == type);

    // Virtual functions not taken by these counts; no limit on a parent without slots.
    private int FreeSlots(IReadOnlyDictionary<string, int> counts) => Slots is { } slots ? slots - counts.Values.Sum() : int.MaxValue;

    private int Used(IReadOnlyDictionary<string, int> counts) =>
        counts.Sum(count => count.Value * (Types.FirstOrDefault(type => type.Type == count.Key)?.Cost ?? 0));
}
