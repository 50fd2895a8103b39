using System.Text.RegularExpressions;
using k8s.Models;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// The API server's rules for a ResourceSlice that a driver can break (from <c>resource.k8s.io/v1</c>'s validation):
/// names, the one node selection, devices or shared counters but not both, and the size limits. The first broken rule
/// is told with its field path, as the API server tells it.
/// </summary>
public static partial class ApiServerValidation
{
    public const int MaxDevices = 128;
    public const int MaxDevicesWithCounters = 64;
    public const int MaxCounterSets = 8;
    public const int MaxCounters = 32;
    public const int MaxConsumptions = 2;
    public const int MaxAttributesAndCapacities = 32;
    public const int MaxStringAttribute = 64;
    public const int MaxDriverName = 63;

    /// <summary>The first rule <paramref name="slice"/> breaks, or null.</summary>
    public static string? Validate(V1ResourceSlice slice)
    {
        var spec = slice.Spec;
        if (slice.Metadata?.Name is not { } name || !IsSubdomain(name))
        {
            return $"metadata.name: Invalid value: \"{slice.Metadata?.Name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'";
        }
        if (spec is null)
        {
            return "spec: Required value";
        }
        if (spec.Driver is not { } driver || driver.Length > MaxDriverName || !IsSubdomain(driver))
        {
            return $"spec.driver: Invalid value: \"{spec.Driver}\": must be a DNS subdomain of at most {MaxDriverName} characters";
        }
        if (spec.Pool?.Name is not { Length: > 0 } pool || pool.Split('/').Any(segment => !IsSubdomain(segment)))
        {
            return $"spec.pool.name: Invalid value: \"{spec.Pool?.Name}\": must be one or more DNS subdomains separated by slashes";
        }
        if (spec.Pool.ResourceSliceCount is not > 0)
        {
            return "spec.pool.resourceSliceCount: Invalid value: must be greater than zero";
        }
        var selections = new[] { spec.NodeName is { Length: > 0 }, spec.NodeSelector is not null, spec.AllNodes == true, spec.PerDeviceNodeSelection == true }.Count(chosen => chosen);
        if (selections != 1)
        {
            return "spec: Invalid value: exactly one of nodeName, nodeSelector, allNodes, perDeviceNodeSelection is required";
        }
        var devices = spec.Devices ?? [];
        var counterSets = spec.SharedCounters ?? [];
        if (devices.Count > 0 && counterSets.Count > 0)
        {
            return "spec: Invalid value: only one of devices and sharedCounters may be set";
        }
        return ValidateCounterSets(counterSets) ?? ValidateDevices(devices);
    }

    /// <summary>The field selector's equalities (<c>a=b,c==d</c>) on the fields the double selects on; null, with why, for anything else.</summary>
    public static IReadOnlyDictionary<string, string>? ParseFieldSelector(string selector, out string? problem)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        problem = null;
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = term.Split(term.Contains("==", StringComparison.Ordinal) ? "==" : "=", 2);
            if (parts.Length != 2 || parts[0].EndsWith('!') || parts[0] is not ("spec.nodeName" or "spec.driver" or "metadata.name"))
            {
                problem = $"field label not supported: {term}";
                return null;
            }
            fields[parts[0]] = parts[1];
        }
        return fields;
    }

    private static string? ValidateCounterSets(IList<V1CounterSet> sets)
    {
        if (sets.Count > MaxCounterSets)
        {
            return $"spec.sharedCounters: Too many: {sets.Count}: must have at most {MaxCounterSets} items";
        }
        for (var index = 0; index < sets.Count; index++)
        {
            var path = $"spec.sharedCounters[{index}]";
            if (!IsLabel(sets[index].Name))
            {
                return $"{path}.name: Invalid value: \"{sets[index].Name}\": must be a DNS label";
            }
            if (ValidateCounters($"{path}.counters", sets[index].Counters) is { } invalid)
            {
                return invalid;
            }
        }
        return sets.Select(set => set.Name).GroupBy(setName => setName).FirstOrDefault(group => group.Count() > 1) is { } duplicate
            ? $"spec.sharedCounters: Duplicate value: \"{duplicate.Key}\""
            : null;
    }

    private static string? ValidateDevices(IList<V1Device> devices)
    {
        var limit = devices.Any(device => device.ConsumesCounters is { Count: > 0 } || device.Taints is { Count: > 0 }) ? MaxDevicesWithCounters : MaxDevices;
        if (devices.Count > limit)
        {
            return $"spec.devices: Too many: {devices.Count}: must have at most {limit} items";
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < devices.Count; index++)
        {
            var device = devices[index];
            var path = $"spec.devices[{index}]";
            if (!IsLabel(device.Name))
            {
                return $"{path}.name: Invalid value: \"{device.Name}\": must be a DNS label";
            }
            if (!names.Add(device.Name))
            {
                return $"{path}.name: Duplicate value: \"{device.Name}\"";
            }
            if ((device.Attributes?.Count ?? 0) + (device.Capacity?.Count ?? 0) > MaxAttributesAndCapacities)
            {
                return $"{path}: Too many: attributes and capacities together must have at most {MaxAttributesAndCapacities} items";
            }
            if (device.Attributes?.FirstOrDefault(attribute => attribute.Value.StringValue?.Length > MaxStringAttribute) is { Key: { } longKey })
            {
                return $"{path}.attributes[{longKey}].string: Too long: may not be more than {MaxStringAttribute} bytes";
            }
            var consumptions = device.ConsumesCounters ?? [];
            if (consumptions.Count > MaxConsumptions)
            {
                return $"{path}.consumesCounters: Too many: {consumptions.Count}: must have at most {MaxConsumptions} items";
            }
            for (var consumption = 0; consumption < consumptions.Count; consumption++)
            {
                if (ValidateCounters($"{path}.consumesCounters[{consumption}].counters", consumptions[consumption].Counters) is { } invalid)
                {
                    return invalid;
                }
            }
        }
        return null;
    }

    private static string? ValidateCounters(string path, IDictionary<string, V1Counter>? counters)
    {
        if (counters is not { Count: > 0 })
        {
            return $"{path}: Required value";
        }
        if (counters.Count > MaxCounters)
        {
            return $"{path}: Too many: {counters.Count}: must have at most {MaxCounters} items";
        }
        return counters.Keys.FirstOrDefault(counter => !IsLabel(counter)) is { } bad ? $"{path}[{bad}]: Invalid value: must be a DNS label" : null;
    }

    private static bool IsLabel(string? name) => name is { Length: > 0 and <= 63 } && Label().IsMatch(name);

    private static bool IsSubdomain(string name) => name.Length is > 0 and <= 253 && name.Split('.').All(IsLabel);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Label();
}
