using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mdevkit.Management.Reconcile;

/// <summary>A device the reconciler made: it may remove it, and makes it again under the same UUID when it is gone.</summary>
/// <param name="Uuid">Its UUID.</param>
/// <param name="Parent">Where it was made.</param>
/// <param name="Type">As what.</param>
/// <param name="Entry">The declaration's entry it was made for: <see cref="OwnedDevices.DeviceEntry"/>, or a count's <see cref="DeclaredCount.Key"/>.</param>
/// <param name="Attributes">The attributes it was made with.</param>
public sealed record OwnedDevice(Guid Uuid, string Parent, string Type, string Entry, IReadOnlyList<KeyValuePair<string, string>>? Attributes = null)
{
    /// <summary>The configuration it was made with.</summary>
    public DeviceConfig Config => new(Type, false, Attributes ?? []);
}

/// <summary>
/// The ownership record, <c>var/lib/mdevkit/owned.json</c>: every device the reconciler made. It is the only list of
/// devices the reconciler ever removes. It lives in persistent state, not the runtime directory, so that it outlives
/// the agent and a reboot: after a reboot the devices it names are gone, and the reconciler makes them again under
/// the same UUIDs (a virtual machine names its vGPU by UUID), and knows them as its own.
/// </summary>
public static class OwnedDevices
{
    /// <summary>The entry of a device declared by its UUID.</summary>
    public const string DeviceEntry = "device";

    /// <summary>The record; empty when there is none.</summary>
    /// <exception cref="MdevctlException">The file is not a record.</exception>
    public static IReadOnlyList<OwnedDevice> Load(MdevctlEnvironment environment)
    {
        var path = environment.Sysfs.PathOf(MdevkitPaths.OwnedDevices);
        if (!File.Exists(path))
        {
            return [];
        }
        try
        {
            return JsonSyntax.Deserialize(File.ReadAllText(path), OwnedJson.Default.OwnedRecord, "an ownership record", path).Devices;
        }
        catch (InvalidInputException e)
        {
            // The host's own file, not what a caller gave.
            throw new MdevctlException(e.Message, [.. e.Causes]);
        }
    }

    /// <summary>The record's text.</summary>
    public static string ToJson(IReadOnlyList<OwnedDevice> devices) =>
        JsonSerializer.Serialize(new OwnedRecord([.. devices.OrderBy(device => device.Uuid)]), OwnedJson.Default.OwnedRecord) + "\n";
}

internal sealed record OwnedRecord(IReadOnlyList<OwnedDevice> Devices);

// Source-generated, so the NativeAOT hosts read and write the record without reflection.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(OwnedRecord))]
internal sealed partial class OwnedJson : JsonSerializerContext;
