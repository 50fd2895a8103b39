using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mdevkit.Management;

/// <summary>
/// A device's persistent configuration, as mdevctl stores it in <c>etc/mdevctl.d/&lt;parent&gt;/&lt;uuid&gt;</c>:
/// its type, whether it starts automatically, and vendor attributes written in order when it starts.
/// </summary>
/// <param name="MdevType">The type id.</param>
/// <param name="AutoStart">True for <c>"start": "auto"</c>.</param>
/// <param name="Attributes">Attribute name/value pairs in write order; names may repeat.</param>
public sealed record DeviceConfig(string MdevType, bool AutoStart, IReadOnlyList<KeyValuePair<string, string>> Attributes)
{
    private static readonly JsonWriterOptions s_pretty = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The <c>start</c> value: <c>auto</c> or <c>manual</c>.</summary>
    public string StartText => AutoStart ? "auto" : "manual";

    /// <inheritdoc/>
    public bool Equals(DeviceConfig? other) =>
        other is not null && MdevType == other.MdevType && AutoStart == other.AutoStart && Attributes.SequenceEqual(other.Attributes);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(MdevType, AutoStart, Attributes.Count);

    /// <summary>
    /// Parses a configuration with mdevctl's rules: <c>mdev_type</c> and <c>start</c> must be strings
    /// (any <c>start</c> other than <c>auto</c> is manual), <c>attrs</c> may be missing or null, else an
    /// array of single-key objects with string values; other keys are ignored.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="ConfigException">With mdevctl's message for what is wrong.</exception>
    public static DeviceConfig Parse(string json)
    {
        using var document = JsonSyntax.Parse(json);
        return FromJson(document.RootElement);
    }

    /// <summary>Reads a configuration object (as found in a file, on stdin, or inside a listing).</summary>
    /// <exception cref="ConfigException">With mdevctl's message for what is wrong.</exception>
    public static DeviceConfig FromJson(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("mdev_type", out var type) || type.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("start", out var start) || start.ValueKind != JsonValueKind.String)
        {
            throw new ConfigException("invalid json");
        }
        var attributes = element.TryGetProperty("attrs", out var attrs) && attrs.ValueKind != JsonValueKind.Null
            ? ParseAttributes(attrs)
            : [];
        return new DeviceConfig(type.GetString()!, start.GetString() == "auto", attributes);
    }

    /// <summary>Parses an attribute list: a JSON array of single-key objects with string values.</summary>
    /// <exception cref="ConfigException">With mdevctl's message for what is wrong.</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseAttributes(JsonElement attrs)
    {
        if (attrs.ValueKind != JsonValueKind.Array)
        {
            throw new ConfigException("attributes field is not an array");
        }
        var attributes = new List<KeyValuePair<string, string>>();
        foreach (var item in attrs.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigException("invalid JSON format for attribute: not an object");
            }
            var properties = item.EnumerateObject().ToArray();
            if (properties.Length > 1)
            {
                throw new ConfigException("invalid JSON format for attribute: too many fields");
            }
            foreach (var property in properties)
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    throw new ConfigException("invalid JSON format for attribute: value must be of type str");
                }
                attributes.Add(new(property.Name, property.Value.GetString()!));
            }
        }
        return attributes;
    }

    /// <summary>The stored form: pretty JSON with two-space indents, <c>attrs</c> always present, no final newline.</summary>
    public string ToPrettyJson() => Write(s_pretty, WriteTo);

    /// <summary>The compact form callout scripts receive on stdin.</summary>
    public string ToCompactJson() => Write(s_compact, WriteTo);

    /// <summary>Writes the configuration object into a larger document (a listing).</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("mdev_type", MdevType);
        writer.WriteString("start", StartText);
        writer.WritePropertyName("attrs");
        WriteAttributes(writer, Attributes);
        writer.WriteEndObject();
    }

    /// <summary>Writes an attribute list as mdevctl does: an array of single-key objects.</summary>
    public static void WriteAttributes(Utf8JsonWriter writer, IReadOnlyList<KeyValuePair<string, string>> attributes)
    {
        writer.WriteStartArray();
        foreach (var (name, value) in attributes)
        {
            writer.WriteStartObject();
            writer.WriteString(name, value);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary>Renders a JSON document with mdevctl's pretty style.</summary>
    public static string WritePretty(Action<Utf8JsonWriter> write) => Write(s_pretty, write);

    private static string Write(JsonWriterOptions options, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>A device configuration that cannot be read; the message is mdevctl's, after the file's path when it came from one.</summary>
public sealed class ConfigException(string message) : InvalidInputException(message)
{
    /// <summary>The definition file it was read from, when it was one.</summary>
    public string? Path { get; init; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem => base.Message;

    /// <inheritdoc/>
    public override string Message => Path is null ? Problem : $"{Path}: {Problem}";
}
