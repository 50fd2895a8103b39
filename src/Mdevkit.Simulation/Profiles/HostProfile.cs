using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Mdevkit.Simulation.Drivers;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Profiles;

/// <summary>A simulated machine: a name, a description and its parent devices. Stored as JSON.</summary>
public sealed record HostProfile
{
    /// <summary>The profile's name.</summary>
    public required string Name { get; init; }

    /// <summary>One line on what the machine is.</summary>
    public string Description { get; init; } = "";

    /// <summary>The parent devices.</summary>
    public required IReadOnlyList<ParentSpec> Parents { get; init; }

    /// <summary>What a write to <c>remove</c> does while the device is open: <c>wait</c> (current kernels, the default) or <c>busy</c> (older kernels).</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<RemoveWhileOpen>))]
    public RemoveWhileOpen? RemoveWhileOpen { get; init; }

    /// <summary>The names of the profiles built into mdevkit.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } =
    [
        .. typeof(HostProfile).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(name => name[ResourcePrefix.Length..^".json".Length])
            .Order(StringComparer.Ordinal),
    ];

    private const string ResourcePrefix = "profiles/";

    /// <summary>Loads a built-in profile by name, or a profile file by path.</summary>
    /// <exception cref="ProfileException">Unknown name, unreadable file, or invalid content.</exception>
    public static HostProfile Load(string nameOrPath)
    {
        using var builtIn = typeof(HostProfile).Assembly.GetManifestResourceStream(ResourcePrefix + nameOrPath + ".json");
        if (builtIn is not null)
        {
            return Parse(builtIn, $"built-in profile '{nameOrPath}'");
        }
        if (!nameOrPath.Contains('/', StringComparison.Ordinal) && !nameOrPath.EndsWith(".json", StringComparison.Ordinal))
        {
            throw new ProfileException($"unknown profile '{nameOrPath}'; built-in profiles: {string.Join(", ", BuiltInNames)}; or give a path to a JSON file");
        }
        try
        {
            using var file = File.OpenRead(nameOrPath);
            return Parse(file, $"profile file '{nameOrPath}'");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ProfileException($"cannot read profile file '{nameOrPath}': {SysfsException.Describe(SysfsException.ToErrno(e))}");
        }
    }

    /// <summary>Parses and validates a profile.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="origin">Where it came from, for messages.</param>
    public static HostProfile Parse(Stream json, string origin)
    {
        using var buffer = new MemoryStream();
        json.CopyTo(buffer);
        var bytes = buffer.ToArray();
        HostProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize(bytes, ProfileJsonContext.Default.HostProfile);
        }
        catch (JsonException e)
        {
            throw new ProfileException($"{origin}: {DescribeJsonError(bytes, e)}");
        }
        if (profile is null)
        {
            throw new ProfileException($"{origin}: empty profile");
        }
        try
        {
            _ = profile.BuildHardware();
        }
        catch (ProfileException e)
        {
            throw new ProfileException($"{origin}: {e.Message}");
        }
        return profile;
    }

    /// <summary>The parent devices the profile describes, each with its driver.</summary>
    /// <exception cref="ProfileException">An entry is invalid, or two entries name the same device.</exception>
    public IReadOnlyList<ParentBlueprint> BuildHardware()
    {
        var hardware = Parents.SelectMany((spec, index) => VendorDrivers.Build(spec, index)).ToArray();
        var duplicate = hardware.GroupBy(blueprint => blueprint.Name).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new ProfileException($"parent '{duplicate.Key}' appears more than once");
        }
        return hardware;
    }

    // The serializer's own message names .NET types (and is a resource key in the trimmed build): say instead
    // which entry and which field is wrong, from the profile's shape, at the position the serializer stopped.
    private static string DescribeJsonError(byte[] json, JsonException e)
    {
        var where = $"at line {e.LineNumber + 1} column {e.BytePositionInLine + 1}";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException syntax)
        {
            return $"not valid JSON at line {syntax.LineNumber + 1} column {syntax.BytePositionInLine + 1}";
        }
        using (document)
        {
            return $"{FindShapeError(document.RootElement, ProfileJsonContext.Default.HostProfile, "") ?? "a value cannot be read"} {where}";
        }
    }

    private static string? FindShapeError(JsonElement element, JsonTypeInfo type, string entry)
    {
        var prefix = entry.Length == 0 ? "" : $"{entry}: ";
        if (element.ValueKind != JsonValueKind.Object)
        {
            return $"{prefix}expected an object, found {Kind(element)}";
        }
        // Computed properties ([JsonIgnore]) have no setter: they are not fields a profile can give.
        var fields = type.Properties.Where(property => property.Set is not null).ToArray();
        foreach (var member in element.EnumerateObject())
        {
            var property = fields.FirstOrDefault(property => property.Name == member.Name);
            if (property is null)
            {
                return $"{prefix}unknown field '{member.Name}' (known: {string.Join(", ", fields.Select(known => known.Name))})";
            }
            var expected = ExpectedKind(property.PropertyType);
            var value = member.Value;
            if (value.ValueKind == JsonValueKind.Null ? !IsNullable(property.PropertyType) : expected.Kinds.Length > 0 && !expected.Kinds.Contains(value.ValueKind))
            {
                return $"{prefix}'{member.Name}' must be {expected.Text}, not {Kind(value)}";
            }
            if (property.PropertyType == typeof(IReadOnlyList<ParentSpec>))
            {
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (FindShapeError(item, ProfileJsonContext.Default.ParentSpec, $"parents[{index++}]") is { } error)
                    {
                        return error;
                    }
                }
            }
        }
        return fields.FirstOrDefault(property => property.IsRequired && !element.TryGetProperty(property.Name, out _)) is { } missing
            ? $"{prefix}missing field '{missing.Name}'"
            : null;
    }

    private static (JsonValueKind[] Kinds, string Text) ExpectedKind(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? type) switch
        {
            var t when t == typeof(string) || t.IsEnum => ([JsonValueKind.String], "a string"),
            var t when t == typeof(int) => ([JsonValueKind.Number], "a number"),
            var t when t == typeof(bool) => ([JsonValueKind.True, JsonValueKind.False], "true or false"),
            var t when t == typeof(IReadOnlyList<ParentSpec>) => ([JsonValueKind.Array], "an array"),
            _ => ([], "a value"),
        };

    private static bool IsNullable(Type type) => !type.IsValueType || Nullable.GetUnderlyingType(type) is not null;

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

/// <summary>A profile that cannot be loaded, with a message that says where and why.</summary>
public sealed class ProfileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProfileException(string message) : base(message)
    {
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true)]
[JsonSerializable(typeof(HostProfile))]
internal sealed partial class ProfileJsonContext : JsonSerializerContext;
