using System.Text.Json.Serialization;

namespace Mdevkit.Kubernetes;

/// <summary>A CDI spec file: one kind, its devices and what each adds to a container.</summary>
internal sealed record CdiSpec(string CdiVersion, string Kind, IReadOnlyList<CdiDevice> Devices)
{
    /// <summary>The CDI version whose fields the specs use (device nodes and bind mounts are older than it).</summary>
    public const string Version = "0.6.0";
}

internal sealed record CdiDevice(string Name, CdiContainerEdits ContainerEdits);

internal sealed record CdiContainerEdits(IReadOnlyList<CdiDeviceNode>? DeviceNodes = null, IReadOnlyList<CdiMount>? Mounts = null);

internal sealed record CdiDeviceNode(string Path);

internal sealed record CdiMount(string HostPath, string ContainerPath, IReadOnlyList<string> Options);

/// <summary>KEP-5304 device metadata of one request of a claim: what KubeVirt's virt-launcher reads the mdev's UUID from.</summary>
internal sealed record DeviceMetadata(string ApiVersion, string Kind, DeviceMetadataClaim Metadata, IReadOnlyList<DeviceMetadataRequest> Requests)
{
    public const string CurrentApiVersion = "metadata.resource.k8s.io/v1alpha1";

    public const string KindName = "DeviceMetadata";

    /// <summary>The attribute that names the mdev (KubeVirt checks it first).</summary>
    public const string MdevUuidAttribute = "mdevUUID";

    /// <summary>The attribute that names a PCI device to pass through: a vendor-specific VFIO vGPU's virtual function.</summary>
    public const string PciBusIdAttribute = "resource.kubernetes.io/pciBusID";
}

internal sealed record DeviceMetadataClaim(string Name, string Namespace, string Uid, long Generation);

internal sealed record DeviceMetadataRequest(string Name, IReadOnlyList<DeviceMetadataDevice> Devices);

internal sealed record DeviceMetadataDevice(string Name, string Driver, string Pool, IReadOnlyDictionary<string, DeviceMetadataAttribute> Attributes);

internal sealed record DeviceMetadataAttribute(string String);

/// <summary>The plugin's checkpoint: every claim it prepared or is preparing.</summary>
internal sealed record CheckpointFile(IReadOnlyList<CheckpointClaim> Claims);

/// <summary>What preparing one claim did, or is about to do.</summary>
/// <param name="Uid">The claim's UID.</param>
/// <param name="Namespace">Its namespace.</param>
/// <param name="Name">Its name.</param>
/// <param name="State"><see cref="Preparing"/> from before the first device is made until the claim is answered; <see cref="Prepared"/> after.</param>
/// <param name="Devices">Its devices on this node.</param>
/// <param name="Files">The CDI specs and metadata files written for it.</param>
internal sealed record CheckpointClaim(string Uid, string Namespace, string Name, string State, IReadOnlyList<CheckpointDevice> Devices, IReadOnlyList<string> Files)
{
    public const string Preparing = "preparing";

    public const string Prepared = "prepared";
}

/// <summary>One allocated device and the mdev made for it.</summary>
/// <param name="Uuid">The mdev's UUID, derived from the claim's UID and the request.</param>
/// <param name="Parent">Its parent.</param>
/// <param name="Type">Its type.</param>
/// <param name="Request">The claim's request it was allocated for.</param>
/// <param name="Pool">The allocation's pool.</param>
/// <param name="Device">The allocated device's name in the pool.</param>
/// <param name="Existed">Whether the mdev ran before this plugin's prepare: then it is never removed by the plugin.</param>
/// <param name="Function">
/// The virtual function it went on when <paramref name="Parent"/> is an SR-IOV GPU's physical function: what the
/// planner picked, recorded once it runs. Null otherwise, and until then.
/// </param>
internal sealed record CheckpointDevice(Guid Uuid, string Parent, string Type, string Request, string Pool, string Device, bool Existed, string? Function = null);

// Source-generated, so the NativeAOT plugin writes its files without reflection.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(CdiSpec))]
[JsonSerializable(typeof(DeviceMetadata))]
[JsonSerializable(typeof(CheckpointFile))]
internal sealed partial class DraJson : JsonSerializerContext;
