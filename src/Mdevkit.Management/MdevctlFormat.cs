using System.Globalization;
using System.Text;
using System.Text.Json;
using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// mdevctl's output formats, byte for byte (those of mdevctl 1.4: JSON without a final newline, text
/// without an extra blank line).
/// </summary>
public static class MdevctlFormat
{
    /// <summary><c>list</c> text: <c>uuid parent type auto|manual</c> plus <c>(defined)</c> or <c>(active)</c>, and attributes with <c>-v</c>.</summary>
    /// <param name="devices">Sorted devices.</param>
    /// <param name="definedListing">Whether this is <c>list -d</c>.</param>
    /// <param name="verbose">Whether to show attributes.</param>
    public static string ListText(IEnumerable<ListedDevice> devices, bool definedListing, bool verbose)
    {
        var text = new StringBuilder();
        foreach (var device in devices)
        {
            text.Append(CultureInfo.InvariantCulture, $"{MdevUuid.Format(device.Uuid)} {device.Parent} {device.Config.MdevType} {device.Config.StartText}");
            if (definedListing ? device.IsActive : device.IsDefined)
            {
                text.Append(definedListing ? " (active)" : " (defined)");
            }
            text.Append('\n');
            if (verbose && device.Config.Attributes.Count > 0)
            {
                text.Append("  Attrs:\n");
                var index = 0;
                foreach (var (name, value) in device.Config.Attributes)
                {
                    // mdevctl prints these raw, without JSON escaping.
                    text.Append(CultureInfo.InvariantCulture, $"    @{{{index++}}}: {{\"{name}\":\"{value}\"}}\n");
                }
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// <c>list --dumpjson</c>: <c>[{parent: [{uuid: config}, …], …}]</c>, or <c>[]</c>; when a UUID was asked
    /// for and exactly one device matches, the bare configuration (what a definition file holds).
    /// </summary>
    public static string ListJson(IReadOnlyList<ListedDevice> devices, bool uuidRequested)
    {
        if (uuidRequested && devices.Count <= 1)
        {
            return devices.Count == 0 ? "[]" : devices[0].Config.ToPrettyJson();
        }
        return Hierarchy(devices.GroupBy(device => device.Parent), (writer, device) =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName(MdevUuid.Format(device.Uuid));
            device.Config.WriteTo(writer);
            writer.WriteEndObject();
        });
    }

    /// <summary><c>types</c> text.</summary>
    public static string TypesText(IEnumerable<(string Parent, IReadOnlyList<MdevTypeInfo> Types)> parents)
    {
        var text = new StringBuilder();
        foreach (var (parent, types) in parents)
        {
            text.Append(parent).Append('\n');
            foreach (var type in types)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {type.Id}\n    Available instances: {type.AvailableInstances}\n    Device API: {type.DeviceApi}\n");
                if (!string.IsNullOrEmpty(type.Name))
                {
                    text.Append(CultureInfo.InvariantCulture, $"    Name: {type.Name}\n");
                }
                if (Description(type) is { Length: > 0 } description)
                {
                    text.Append(CultureInfo.InvariantCulture, $"    Description: {description}\n");
                }
            }
        }
        return text.ToString();
    }

    /// <summary><c>types --dumpjson</c>.</summary>
    public static string TypesJson(IEnumerable<(string Parent, IReadOnlyList<MdevTypeInfo> Types)> parents) =>
        Hierarchy(parents.Select(parent => new Grouping<MdevTypeInfo>(parent.Parent, parent.Types)), (writer, type) =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject(type.Id);
            writer.WriteNumber("available_instances", type.AvailableInstances);
            writer.WriteString("device_api", type.DeviceApi);
            if (!string.IsNullOrEmpty(type.Name))
            {
                writer.WriteString("name", type.Name);
            }
            if (Description(type) is { Length: > 0 } description)
            {
                writer.WriteString("description", description);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        });

    // mdevctl shows a multi-line description on one line.
    private static string? Description(MdevTypeInfo type) => type.Description?.Trim().Replace("\n", ", ", StringComparison.Ordinal);

    // [ { parent: [ item, … ], … } ], or [] when there is nothing.
    private static string Hierarchy<T>(IEnumerable<IGrouping<string, T>> parents, Action<Utf8JsonWriter, T> writeItem)
    {
        var groups = parents.ToArray();
        return DeviceConfig.WritePretty(writer =>
        {
            writer.WriteStartArray();
            if (groups.Length > 0)
            {
                writer.WriteStartObject();
                foreach (var group in groups)
                {
                    writer.WriteStartArray(group.Key);
                    foreach (var item in group)
                    {
                        writeItem(writer, item);
                    }
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });
    }

    private sealed class Grouping<T>(string key, IEnumerable<T> items) : IGrouping<string, T>
    {
        public string Key => key;

        public IEnumerator<T> GetEnumerator() => items.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
