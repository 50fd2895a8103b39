using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Reconcile;

/// <summary>A device declared by its UUID: where it runs, as what, with which attributes (as an mdevctl definition).</summary>
/// <param name="Uuid">Its UUID.</param>
/// <param name="Parent">Its parent.</param>
/// <param name="Type">Its type.</param>
/// <param name="Attributes">Attributes written in order when it is made.</param>
public sealed record DeclaredDevice(Guid Uuid, string Parent, string Type, IReadOnlyList<KeyValuePair<string, string>> Attributes)
{
    /// <summary>The configuration it is made with.</summary>
    public DeviceConfig Config => new(Type, false, Attributes);
}

/// <summary>A number of devices of a type, on one parent or wherever they fit.</summary>
/// <param name="Parent">The parent, or null for any.</param>
/// <param name="Type">The type.</param>
/// <param name="Count">How many.</param>
public sealed record DeclaredCount(string? Parent, string Type, int Count)
{
    /// <summary>Names the entry in the ownership record: <c>PARENT/TYPE</c>, or <c>*/TYPE</c> for any parent.</summary>
    public string Key => $"{Parent ?? "*"}/{Type}";
}

/// <summary>A config of NVIDIA's vgpu-device-manager, by file and name, whose vGPUs the host should carry.</summary>
/// <param name="File">The config file: an absolute path is below the root (as the declaration is), a relative one next to the declaration.</param>
/// <param name="Select">The config's name in it; null when the file has only one.</param>
public sealed record DeclaredVgpuConfig(string File, string? Select);

/// <summary>
/// What a host should carry, from <c>etc/mdevkit/host.json</c>: devices by UUID, counts of a type per parent
/// or on any parent, and the vGPUs a config of NVIDIA's vgpu-device-manager asks for. The reconciler makes the host
/// so, and removes only what it made.
/// </summary>
/// <param name="Devices">Devices by UUID.</param>
/// <param name="Counts">Counts per type.</param>
/// <param name="VgpuConfig">A vGPU config, if one is declared.</param>
public sealed record HostDeclaration(IReadOnlyList<DeclaredDevice> Devices, IReadOnlyList<DeclaredCount> Counts, DeclaredVgpuConfig? VgpuConfig = null)
{
    /// <summary>The file's path below a root.</summary>
    public static string PathOf(MdevctlEnvironment environment) => environment.Sysfs.PathOf(MdevkitPaths.Declaration);

    /// <summary>The root's declaration, or null when it has none (then nothing is reconciled).</summary>
    /// <exception cref="InvalidInputException">The file is not a declaration: <c>FILE:LINE:COLUMN: what</c>.</exception>
    /// <exception cref="MdevctlException">The file cannot be read.</exception>
    public static HostDeclaration? Load(MdevctlEnvironment environment)
    {
        var path = PathOf(environment);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MdevctlException.Wrap($"Unable to read {path}", e);
        }
        return Parse(text, path);
    }

    /// <summary>Reads a declaration; what is wrong is told with its place in the file.</summary>
    /// <exception cref="InvalidInputException"><c>FILE:LINE:COLUMN: what</c>.</exception>
    public static HostDeclaration Parse(string text, string path)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        if (JsonSyntax.Locate(utf8) is { } syntax)
        {
            throw new InvalidInputException($"{path}:{syntax.Line}:{syntax.Column}: {syntax.What}");
        }
        DeclarationFile file;
        try
        {
            file = JsonSerializer.Deserialize(utf8, DeclarationJson.Default.DeclarationFile)
                ?? throw new InvalidInputException($"{path}:1:1: a declaration is an object with \"devices\", \"counts\" and \"vgpu_config\"");
        }
        catch (JsonException e)
        {
            throw new Checker(utf8, path).Error(Segments(e.Path), $"unexpected field or value at {e.Path ?? "$"}");
        }
        return new Checker(utf8, path).Check(file);
    }

    // The serializer's JSON path ($.counts[0].count) as property names and indexes.
    private static object[] Segments(string? jsonPath) =>
        [.. (jsonPath ?? "$").Replace("[", ".[", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(segment => segment.StartsWith('[') && int.TryParse(segment.AsSpan(1, segment.Length - 2), out var index) ? (object)index : segment)];

    // Checks each entry and says where the first thing wrong is.
    private readonly ref struct Checker(ReadOnlySpan<byte> utf8, string path)
    {
        private readonly ReadOnlySpan<byte> _utf8 = utf8;

        public HostDeclaration Check(DeclarationFile file)
        {
            var devices = new List<DeclaredDevice>();
            for (var i = 0; i < (file.Devices?.Count ?? 0); i++)
            {
                object[] at = ["devices", i];
                var entry = file.Devices![i] ?? throw Error(at, "a device is an object with \"uuid\", \"parent\" and \"mdev_type\"");
                var uuid = MdevUuid.TryParse(Require(entry.Uuid, at, "uuid"), out var parsed) ? parsed : throw Error([.. at, "uuid"], "not a UUID");
                if (devices.Any(device => device.Uuid == uuid))
                {
                    throw Error([.. at, "uuid"], $"{MdevUuid.Format(uuid)} is declared twice");
                }
                var attributes = new List<KeyValuePair<string, string>>();
                for (var a = 0; a < (entry.Attrs?.Count ?? 0); a++)
                {
                    if (entry.Attrs![a] is not { Count: 1 } attribute || attribute.First() is not { Value: { } value, Key: var name } || !SysfsRoot.IsAttributeName(name))
                    {
                        throw Error([.. at, "attrs", a], "an attribute is one object with one name and its value, as in an mdevctl definition");
                    }
                    attributes.Add(new(name, value));
                }
                devices.Add(new DeclaredDevice(uuid, ParentName(Require(entry.Parent, at, "parent"), [.. at, "parent"]), TypeName(Require(entry.Type, at, "mdev_type"), [.. at, "mdev_type"]), attributes));
            }
            var counts = new List<DeclaredCount>();
            for (var i = 0; i < (file.Counts?.Count ?? 0); i++)
            {
                object[] at = ["counts", i];
                var entry = file.Counts![i] ?? throw Error(at, "a count is an object with \"mdev_type\" and \"count\"");
                var count = entry.Count switch
                {
                    null => throw Error(at, "\"count\" is missing"),
                    < 0 => throw Error([.. at, "count"], "a count is 0 or more"),
                    var given => given.Value,
                };
                var declared = new DeclaredCount(entry.Parent is null ? null : ParentName(entry.Parent, [.. at, "parent"]), TypeName(Require(entry.Type, at, "mdev_type"), [.. at, "mdev_type"]), count);
                if (counts.Any(other => other.Key == declared.Key))
                {
                    throw Error(at, $"{declared.Key} is counted twice");
                }
                counts.Add(declared);
            }
            DeclaredVgpuConfig? vgpuConfig = null;
            if (file.VgpuConfig is { } config)
            {
                object[] at = ["vgpu_config"];
                var configFile = Require(config.File, at, "file");
                vgpuConfig = new DeclaredVgpuConfig(
                    configFile.Length > 0 && !configFile.Contains('\0', StringComparison.Ordinal) ? configFile : throw Error([.. at, "file"], "not a file name"),
                    config.Select is "" ? throw Error([.. at, "select"], "a vgpu-config's name is not empty") : config.Select);
            }
            return new HostDeclaration(devices, counts, vgpuConfig);
        }

        private string Require(string? value, object[] at, string field) =>
            value ?? throw Error(at, $"\"{field}\" is missing");

        private string ParentName(string parent, object[] at) =>
            DeviceNames.Problem(parent) is null && SysfsRoot.IsPathComponent(parent) && parent != MdevctlEnvironment.ScriptsDirectoryName
                ? parent
                : throw Error(at, $"invalid parent device name '{DeviceNames.Printable(parent)}'");

        private string TypeName(string type, object[] at) =>
            DeviceNames.Problem(type) is { } problem ? throw Error(at, $"invalid mdev type '{DeviceNames.Printable(type)}': {problem}") : type;

        public InvalidInputException Error(object[] at, string what)
        {
            var (line, column) = JsonSyntax.PositionOf(_utf8, Locate(_utf8, at));
            return new InvalidInputException($"{path}:{line}:{column}: {what}");
        }

        // Where the value at a path (property names and array indexes) starts; the closest enclosing value when it is absent.
        private static int Locate(ReadOnlySpan<byte> utf8, object[] at)
        {
            var reader = new Utf8JsonReader(utf8);
            var found = 0;
            reader.Read();
            foreach (var segment in at)
            {
                found = (int)reader.TokenStartIndex;
                if (!Enter(ref reader, segment))
                {
                    return found;
                }
            }
            return (int)reader.TokenStartIndex;
        }

        // Moves from a container's start token to the start of its member or item; false when it has none such.
        private static bool Enter(ref Utf8JsonReader reader, object segment)
        {
            var depth = reader.CurrentDepth;
            var index = 0;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                if (segment is string name && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals(name))
                {
                    reader.Read();
                    return true;
                }
                if (segment is int wanted && reader.CurrentDepth == depth + 1 && reader.TokenType is not (JsonTokenType.EndArray or JsonTokenType.EndObject))
                {
                    if (index++ == wanted)
                    {
                        return true;
                    }
                    reader.Skip();
                }
                else if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return false;
        }
    }
}

// The file's own shape, snake_case as mdevctl's definitions: what the serializer fills before the checks.
internal sealed class DeclarationFile
{
    [JsonPropertyName("devices")]
    public List<DeclaredDeviceEntry?>? Devices { get; set; }

    [JsonPropertyName("counts")]
    public List<DeclaredCountEntry?>? Counts { get; set; }

    [JsonPropertyName("vgpu_config")]
    public DeclaredVgpuConfigEntry? VgpuConfig { get; set; }
}

internal sealed class DeclaredVgpuConfigEntry
{
    [JsonPropertyName("file")]
    public string? File { get; set; }

    [JsonPropertyName("select")]
    public string? Select { get; set; }
}

internal sealed class DeclaredDeviceEntry
{
    [JsonPropertyName("uuid")]
    public string? Uuid { get; set; }

    [JsonPropertyName("parent")]
    public string? Parent { get; set; }

    [JsonPropertyName("mdev_type")]
    public string? Type { get; set; }

    [JsonPropertyName("attrs")]
    public List<Dictionary<string, string?>?>? Attrs { get; set; }
}

internal sealed class DeclaredCountEntry
{
    [JsonPropertyName("parent")]
    public string? Parent { get; set; }

    [JsonPropertyName("mdev_type")]
    public string? Type { get; set; }

    [JsonPropertyName("count")]
    public int? Count { get; set; }
}

// Source-generated, so the NativeAOT hosts read declarations without reflection; a misspelt field is refused.
[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(DeclarationFile))]
internal sealed partial class DeclarationJson : JsonSerializerContext;
