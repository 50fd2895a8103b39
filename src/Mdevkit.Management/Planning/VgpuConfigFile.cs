using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mdevkit.Management.Planning;

/// <summary>A PCI device id a config entry is limited to: <c>0x223510DE</c> (device, vendor).</summary>
/// <param name="Device">The device id.</param>
/// <param name="Vendor">The vendor id.</param>
public sealed record DeviceFilter(int Device, int Vendor);

/// <summary>One entry of a vGPU config: which GPUs, and what each of them should carry.</summary>
/// <param name="Devices">GPU indexes (into NVIDIA's GPUs in PCI order), or null for <c>all</c>.</param>
/// <param name="Filters">Device ids the GPUs must have (any of them); none means every GPU.</param>
/// <param name="VgpuDevices">vGPU type name (<c>A40-12Q</c>) → how many; empty clears the GPU.</param>
public sealed record VgpuConfigEntry(IReadOnlyList<int>? Devices, IReadOnlyList<DeviceFilter> Filters, IReadOnlyDictionary<string, int> VgpuDevices)
{
    /// <summary>Whether the entry applies to the GPU at <paramref name="index"/> with these ids.</summary>
    public bool Matches(int index, int device, int vendor) =>
        (Devices is null || Devices.Contains(index)) && (Filters.Count == 0 || Filters.Any(filter => filter.Device == device && filter.Vendor == vendor));
}

/// <summary>
/// A config file of NVIDIA's vgpu-device-manager (<c>version: v1</c>, <c>vgpu-configs: NAME: [{devices, device-filter,
/// vgpu-devices}]</c>), read with the rules its parser applies: the version must be <c>v1</c>, no field it does not know,
/// <c>devices</c> and <c>vgpu-devices</c> required, <c>devices</c> <c>all</c> or a list of indexes, counts above 0 and type
/// names in NVIDIA's form (<c>A40-12Q</c>, or MIG-backed <c>A100-1-5C</c>). Each mistake is reported at its line and column.
/// </summary>
public sealed partial class VgpuConfigFile
{
    private VgpuConfigFile(IReadOnlyDictionary<string, IReadOnlyList<VgpuConfigEntry>> configs)
    {
        Configs = configs;
    }

    /// <summary>The named configs, each a list of entries applied in order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<VgpuConfigEntry>> Configs { get; }

    /// <summary>The config to apply: the one named, or the only one when none is.</summary>
    /// <exception cref="InvalidInputException">None named while there are several, or no such config.</exception>
    public IReadOnlyList<VgpuConfigEntry> Select(string? name, string path)
    {
        if (name is null)
        {
            return Configs.Count == 1 ? Configs.Values.Single()
                : throw new InvalidInputException($"{path}: it has {Configs.Count} vgpu-configs; choose one with --select ({string.Join(", ", Configs.Keys.Order(StringComparer.Ordinal))})");
        }
        return Configs.TryGetValue(name, out var entries) ? entries : throw new InvalidInputException($"{path}: no vgpu-config named '{name}'");
    }

    /// <summary>Reads a config file's text.</summary>
    /// <exception cref="InvalidInputException"><c>PATH:LINE:COLUMN: what</c> for the first mistake.</exception>
    public static VgpuConfigFile Parse(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new InvalidInputException($"{path}:{e.Start.Line}:{e.Start.Column}: {YamlMessage(e)}");
        }
        var reader = new Reader(path);
        if (stream.Documents.Count != 1)
        {
            throw new InvalidInputException($"{path}: expected one YAML document, found {stream.Documents.Count}");
        }
        var root = reader.Mapping(stream.Documents[0].RootNode, "the file");
        var fields = reader.Fields(root, ["version", "vgpu-configs"], ["version"]);
        var version = reader.Scalar(fields["version"], "version");
        if (version != "v1")
        {
            throw reader.Error(fields["version"], $"unknown version '{version}' (expected v1)");
        }
        if (!fields.TryGetValue("vgpu-configs", out var configsNode))
        {
            return new VgpuConfigFile(new Dictionary<string, IReadOnlyList<VgpuConfigEntry>>());
        }
        var configs = new Dictionary<string, IReadOnlyList<VgpuConfigEntry>>(StringComparer.Ordinal);
        var configsMapping = reader.Mapping(configsNode, "vgpu-configs");
        if (configsMapping.Children.Count == 0)
        {
            throw reader.Error(configsNode, "vgpu-configs needs at least one config");
        }
        foreach (var (key, value) in configsMapping.Children)
        {
            var name = reader.Scalar(key, "a config's name");
            var entries = reader.Sequence(value, $"config '{name}'");
            if (entries.Children.Count == 0)
            {
                throw reader.Error(value, $"config '{name}' needs at least one entry");
            }
            configs[name] = [.. entries.Children.Select(entry => reader.Entry(entry))];
        }
        return new VgpuConfigFile(configs);
    }

    // YamlDotNet's message without the "(Line: …, Col: …, Idx: …) - (…): " it starts with, which the position replaces.
    private static string YamlMessage(YamlException e) => MarkPrefix().Replace(e.Message, "");

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    // NVIDIA's two forms of type name: time-sliced "A40-12Q", "RTX6000-Ada-8Q"; MIG-backed "A100-1-5C", "DC-1-24QGFX".
    [GeneratedRegex("^(?:[A-Z0-9]+(?:-[a-zA-Z]+)*-(?:0|[1-9][0-9]*)[ABCQ]|[A-Z0-9]+-[1-9]-(?:0|[1-9][0-9]*)[ABCQ](?:ME|NOME|MEALL|GFX)?)$")]
    private static partial Regex TypeName();

    private sealed class Reader(string path)
    {
        public InvalidInputException Error(YamlNode node, string what) => new($"{path}:{node.Start.Line}:{node.Start.Column}: {what}");

        public YamlMappingNode Mapping(YamlNode node, string what) => node as YamlMappingNode ?? throw Error(node, $"{what} must be a mapping");

        public YamlSequenceNode Sequence(YamlNode node, string what) => node as YamlSequenceNode ?? throw Error(node, $"{what} must be a list");

        public string Scalar(YamlNode node, string what) => node is YamlScalarNode { Value: { } value } ? value : throw Error(node, $"{what} must be a scalar");

        public int Number(YamlNode node, string what) =>
            int.TryParse(Scalar(node, what), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw Error(node, $"{what} must be a whole number");

        // The mapping's fields by name: each known, none twice, the required ones present.
        public Dictionary<string, YamlNode> Fields(YamlMappingNode mapping, string[] known, string[] required)
        {
            var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (key, value) in mapping.Children)
            {
                var name = Scalar(key, "a field's name");
                if (!known.Contains(name))
                {
                    throw Error(key, $"unexpected field '{name}' (expected {string.Join(", ", known)})");
                }
                fields[name] = value;
            }
            var missing = required.FirstOrDefault(name => !fields.ContainsKey(name));
            return missing is null ? fields : throw Error(mapping, $"missing required field '{missing}'");
        }

        public VgpuConfigEntry Entry(YamlNode node)
        {
            var fields = Fields(Mapping(node, "an entry"), ["device-filter", "devices", "vgpu-devices"], ["devices", "vgpu-devices"]);
            var devicesNode = fields["devices"];
            IReadOnlyList<int>? devices = devicesNode is YamlSequenceNode indexes
                ? [.. indexes.Children.Select(index => Number(index, "a GPU index"))]
                : Scalar(devicesNode, "devices") == "all" ? null : throw Error(devicesNode, "devices must be 'all' or a list of GPU indexes");
            var filters = !fields.TryGetValue("device-filter", out var filterNode) ? []
                : filterNode is YamlSequenceNode filterList ? filterList.Children.Select(Filter).ToList()
                : [Filter(filterNode)];
            var vgpuDevices = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (key, value) in Mapping(fields["vgpu-devices"], "vgpu-devices").Children)
            {
                var type = Scalar(key, "a vGPU type");
                if (!TypeName().IsMatch(type))
                {
                    throw Error(key, $"'{type}' is not a vGPU type name like A40-12Q or A100-1-5C");
                }
                vgpuDevices[type] = Number(value, $"the count of {type}") is > 0 and var count ? count : throw Error(value, $"the count of {type} must be above 0");
            }
            return new VgpuConfigEntry(devices, filters, vgpuDevices);
        }

        // "0x223510DE": the device id above the vendor's. NVIDIA's form with a subsystem (":0x145F10DE") is refused, not ignored.
        private DeviceFilter Filter(YamlNode node)
        {
            var text = Scalar(node, "device-filter");
            return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && text.Length == 10
                && uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id)
                ? new DeviceFilter((int)(id >> 16), (int)(id & 0xffff))
                : throw Error(node, $"device-filter '{text}' is not 0xDEVICEVENDOR, e.g. 0x223510DE (subsystem ids are not supported)");
        }
    }
}
