using System.Text.Json.Serialization;

namespace Mdevkit.Management.Planning;

// Source-generated, so the NativeAOT CLI reads and writes models and plans without reflection.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(CapacityModel))]
[JsonSerializable(typeof(Plan))]
[JsonSerializable(typeof(List<DeviceRequest>))]
internal sealed partial class PlanningJson : JsonSerializerContext;
