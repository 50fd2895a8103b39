using System.Text.Json;
using System.Text.Json.Serialization;
using Mdevkit.Management.Events;
using Mdevkit.Management.Planning;

namespace Mdevkit.Agent;

// Source-generated, so the NativeAOT service reads and writes every body without reflection.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IReadOnlyList<ParentView>))]
[JsonSerializable(typeof(ParentView))]
[JsonSerializable(typeof(IReadOnlyList<DeviceView>))]
[JsonSerializable(typeof(DeviceView))]
[JsonSerializable(typeof(IReadOnlyList<GroupView>))]
[JsonSerializable(typeof(IReadOnlyList<Guid>))]
[JsonSerializable(typeof(IReadOnlyList<MadeDevice>))]
[JsonSerializable(typeof(CapacityModel))]
[JsonSerializable(typeof(Plan))]
[JsonSerializable(typeof(ProblemView))]
[JsonSerializable(typeof(AgentEvent))]
[JsonSerializable(typeof(ReconcileView))]
internal sealed partial class AgentJson : JsonSerializerContext;
