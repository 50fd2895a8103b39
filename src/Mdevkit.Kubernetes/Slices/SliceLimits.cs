using k8s.Models;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>
/// The limits <c>resource.k8s.io/v1</c> puts on a ResourceSlice (<c>staging/src/k8s.io/api/resource/v1/types.go</c>),
/// and a check of a slice against them, which the publisher runs before it sends one.
/// </summary>
public static class SliceLimits
{
    /// <summary>Devices in a slice none of whose devices uses counters, taints or list attributes.</summary>
    public const int DevicesPerSlice = 128;

    /// <summary>Devices in a slice where one does.</summary>
    public const int DevicesPerSliceWithCounters = 64;

    /// <summary>Counter sets in a slice.</summary>
    public const int CounterSetsPerSlice = 8;

    /// <summary>Counters in a set, and in one consumption.</summary>
    public const int CountersPerSet = 32;

    /// <summary>Counter consumptions of a device.</summary>
    public const int ConsumptionsPerDevice = 2;

    /// <summary>Compatibility groups of a consumption.</summary>
    public const int GroupsPerConsumption = 2;

    /// <summary>Attributes and capacities of a device together.</summary>
    public const int AttributesPerDevice = 32;

    /// <summary>Characters of a string attribute.</summary>
    public const int MaxStringAttributeLength = 64;

    /// <summary>Characters of an object name (a DNS subdomain).</summary>
    public const int MaxObjectNameLength = 253;

    /// <summary>Whether a device makes its slice hold at most <see cref="DevicesPerSliceWithCounters"/>.</summary>
    public static bool NeedsSmallSlice(V1Device device) =>
        device.ConsumesCounters is { Count: > 0 } || device.Taints is { Count: > 0 }
        || device.Attributes?.Values.Any(attribute => attribute.Strings is not null || attribute.Ints is not null || attribute.Bools is not null || attribute.Versions is not null) == true;

    /// <summary>What in <paramref name="slice"/> breaks a limit, one line each; empty when nothing does.</summary>
    public static IReadOnlyList<string> Violations(V1ResourceSlice slice)
    {
        var name = slice.Metadata?.Name ?? "(unnamed)";
        var spec = slice.Spec;
        var problems = new List<string>();
        void Check(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add($"ResourceSlice {name}: {problem}");
            }
        }
        Check(spec.Pool is { Name.Length: > 0, ResourceSliceCount: > 0, Generation: >= 0 }, "pool needs a name, a generation and a resourceSliceCount");
        Check(slice.Metadata?.Name is { Length: > 0 and <= MaxObjectNameLength }, "name is missing or longer than 253 characters");
        var devices = spec.Devices ?? [];
        var sets = spec.SharedCounters ?? [];
        Check(devices.Count == 0 || sets.Count == 0, "devices and sharedCounters in one slice");
        Check(devices.Count <= (devices.Any(NeedsSmallSlice) ? DevicesPerSliceWithCounters : DevicesPerSlice), $"{devices.Count} devices, more than the limit");
        Check(sets.Count <= CounterSetsPerSlice, $"{sets.Count} counter sets, more than {CounterSetsPerSlice}");
        foreach (var set in sets)
        {
            Check(DnsLabel.IsLabel(set.Name), $"counter set name '{set.Name}' is not a DNS label");
            Check(set.Counters.Count is > 0 and <= CountersPerSet, $"counter set {set.Name} has {set.Counters.Count} counters, not 1 to {CountersPerSet}");
            Check(set.Counters.All(counter => DnsLabel.IsLabel(counter.Key) && counter.Value.Value.ToDecimal() >= 0), $"counter set {set.Name} has a badly named or negative counter");
        }
        Check(devices.Select(device => device.Name).Distinct().Count() == devices.Count, "two devices share a name");
        foreach (var device in devices)
        {
            var attributes = device.Attributes ?? new Dictionary<string, V1DeviceAttribute>();
            Check(DnsLabel.IsLabel(device.Name), $"device name '{device.Name}' is not a DNS label");
            Check(attributes.Count + (device.Capacity?.Count ?? 0) <= AttributesPerDevice, $"device {device.Name} has more than {AttributesPerDevice} attributes and capacities");
            Check(attributes.Values.All(attribute => attribute.StringValue is null || attribute.StringValue.Length <= MaxStringAttributeLength),
                $"device {device.Name} has a string attribute longer than {MaxStringAttributeLength}");
            var consumptions = device.ConsumesCounters ?? [];
            Check(consumptions.Count <= ConsumptionsPerDevice, $"device {device.Name} consumes from more than {ConsumptionsPerDevice} counter sets");
            Check(consumptions.All(consumption => consumption.Counters.Count <= CountersPerSet && (consumption.CompatibilityGroups?.Count ?? 0) <= GroupsPerConsumption),
                $"device {device.Name} consumes more than {CountersPerSet} counters or names more than {GroupsPerConsumption} groups");
        }
        return problems;
    }

    /// <summary>
    /// What in one pool's slices breaks a limit or the pool's rules: every slice's own limits, one generation and
    /// <c>resourceSliceCount</c> equal to the slices' number, device and counter set names unique in the pool, and every
    /// consumption naming a set and counters of the pool.
    /// </summary>
    public static IReadOnlyList<string> PoolViolations(IReadOnlyList<V1ResourceSlice> slices)
    {
        var problems = slices.SelectMany(Violations).ToList();
        if (slices.Select(slice => (slice.Spec.Pool.Generation, slice.Spec.Pool.ResourceSliceCount)).Distinct().Count() > 1
            || slices.Any(slice => slice.Spec.Pool.ResourceSliceCount != slices.Count))
        {
            problems.Add($"The pool's {slices.Count} slices disagree on the generation or the slice count");
        }
        var sets = slices.SelectMany(slice => slice.Spec.SharedCounters ?? []).ToList();
        var devices = slices.SelectMany(slice => slice.Spec.Devices ?? []).ToList();
        problems.AddRange(sets.CountBy(set => set.Name).Where(count => count.Value > 1).Select(count => $"Counter set {count.Key} is defined {count.Value} times"));
        problems.AddRange(devices.CountBy(device => device.Name).Where(count => count.Value > 1).Select(count => $"Device {count.Key} is listed {count.Value} times"));
        var counters = sets.DistinctBy(set => set.Name).ToDictionary(set => set.Name, set => set.Counters);
        problems.AddRange(devices.SelectMany(device => (device.ConsumesCounters ?? [])
            .Where(consumption => !counters.TryGetValue(consumption.CounterSet, out var set) || consumption.Counters.Keys.Any(counter => !set.ContainsKey(counter)))
            .Select(consumption => $"Device {device.Name} consumes from {consumption.CounterSet}, which does not have its counters")));
        return problems;
    }
}
