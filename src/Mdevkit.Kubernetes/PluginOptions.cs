namespace Mdevkit.Kubernetes;

/// <summary>How the API server is reached: in-cluster (the pod's service account), a kubeconfig file, or a plain-HTTP address.</summary>
/// <param name="Kubeconfig">A kubeconfig file, or null.</param>
/// <param name="Server">A server address used as it is, without credentials (a test's API server double), or null.</param>
public sealed record ApiServerAccess(string? Kubeconfig = null, string? Server = null);

/// <summary>What <c>mdevkit-dra</c> runs with.</summary>
/// <param name="Root">The host root whose devices it manages: <c>/</c>, or a simulated host's root.</param>
/// <param name="NodeName">The node it serves: its pool's name and its slices' node.</param>
/// <param name="KubeletDirectory">The kubelet's directory, where its plugin registry and plugin directories are.</param>
/// <param name="CdiDirectory">Where CDI specs go for the container runtime.</param>
/// <param name="ApiServer">How to reach the API server.</param>
public sealed record PluginOptions(string Root, string NodeName, string KubeletDirectory, string CdiDirectory, ApiServerAccess ApiServer)
{
    /// <summary>The files and sockets under the kubelet's and CDI's directories.</summary>
    public PluginPaths Paths => new(KubeletDirectory, CdiDirectory);
}

/// <summary>The one place that spells the plugin's paths: its sockets, checkpoint, CDI specs and device metadata.</summary>
/// <param name="KubeletDirectory">The kubelet's directory.</param>
/// <param name="CdiDirectory">The CDI spec directory.</param>
public sealed record PluginPaths(string KubeletDirectory, string CdiDirectory)
{
    /// <summary>Where a pod's container sees the metadata of its claims' requests (KEP-5304).</summary>
    public const string ContainerMetadataDirectory = "/var/run/dra-device-attributes";

    /// <summary>The registration socket, in the directory the kubelet's plugin watcher watches.</summary>
    public string RegistrationSocket => Path.Join(KubeletDirectory, "plugins_registry", $"{DraNames.Driver}-reg.sock");

    /// <summary>The plugin's own directory.</summary>
    public string PluginDirectory => Path.Join(KubeletDirectory, "plugins", DraNames.Driver);

    /// <summary>The DRA service's socket, the endpoint the registration names.</summary>
    public string Endpoint => Path.Join(PluginDirectory, "dra.sock");

    /// <summary>The record of prepared claims and of prepares under way.</summary>
    public string Checkpoint => Path.Join(PluginDirectory, "checkpoint.json");

    /// <summary>The directory of one claim's device metadata, one subdirectory per request.</summary>
    public string MetadataClaimDirectory(string claimNamespace, string claimName) =>
        Path.Join(PluginDirectory, "dra-device-metadata", $"{claimNamespace}_{claimName}");

    /// <summary>The metadata file of one request of a claim.</summary>
    public string MetadataFile(string claimNamespace, string claimName, string request) =>
        Path.Join(MetadataClaimDirectory(claimNamespace, claimName), request, "metadata.json");

    /// <summary>Where the container sees that file.</summary>
    public static string ContainerMetadataFile(string claimName, string request) =>
        $"{ContainerMetadataDirectory}/{claimName}/{request}/{DraNames.Driver}-metadata.json";

    /// <summary>The CDI spec of a claim's VFIO devices.</summary>
    public string VfioSpec(string claimUid) => Path.Join(CdiDirectory, $"{DraNames.Driver}-vfio_{claimUid}.json");

    /// <summary>The CDI spec that mounts a claim's metadata files into its containers.</summary>
    public string MetadataSpec(string claimUid) => Path.Join(CdiDirectory, $"{DraNames.Driver}-metadata_{claimUid}.json");
}
