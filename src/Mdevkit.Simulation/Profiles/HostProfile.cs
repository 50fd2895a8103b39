using System.Text.Json;
using System.Text.Json.Serialization;
using Mdevkit.Simulation.Drivers;

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
        catch (IOException e)
        {
            throw new ProfileException($"cannot read profile file '{nameOrPath}': {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ProfileException($"cannot read profile file '{nameOrPath}': {e.Message}");
        }
    }

    /// <summary>Parses and validates a profile.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="origin">Where it came from, for messages.</param>
    public static HostProfile Parse(Stream json, string origin)
    {
        HostProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize(json, ProfileJsonContext.Default.HostProfile);
        }
        catch (JsonException e)
        {
            throw new ProfileException($"{origin}: {e.Message}");
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

    /// <summary>Serializes the profile as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ProfileJsonContext.Default.HostProfile);
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
