namespace Mdevkit.Kubernetes;

/// <summary>The names the driver is known by in a cluster: one place, shared by the slices, the plugin and the manifests' tests.</summary>
public static class DraNames
{
    /// <summary>The DRA driver name: the domain of its device attributes, the CDI vendor, and its kubelet plugin directory.</summary>
    public const string Driver = "mdev.mdevkit.io";

    /// <summary>Device attribute: the parent device's name in sysfs (a PCI address, <c>mtty</c>, <c>matrix</c>, a css bus id).</summary>
    public const string ParentAttribute = "parent";

    /// <summary>Device attribute: the mdev type-id (or, for NVIDIA's vendor-specific VFIO, the vGPU type's id).</summary>
    public const string TypeAttribute = "type";
}
