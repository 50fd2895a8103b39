using k8s.Models;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>The DeviceClass and the claims the tests and the multi-host bench allocate: a VM asking for devices of one mdev type.</summary>
public static class AllocatorClaims
{
    /// <summary>The class of every device the driver publishes.</summary>
    public const string DeviceClassName = "mdev.mdevkit.io";

    /// <summary>The DeviceClass selecting the driver's devices.</summary>
    public static V1DeviceClass DeviceClass(string driver) => new()
    {
        Metadata = new V1ObjectMeta { Name = DeviceClassName },
        Spec = new V1DeviceClassSpec { Selectors = [new V1DeviceSelector { Cel = new V1CELDeviceSelector { Expression = $"device.driver == \"{driver}\"" } }] },
    };

    /// <summary>A claim for <paramref name="count"/> devices whose attribute <paramref name="attribute"/> (in the driver's domain) is <paramref name="value"/>.</summary>
    public static Resourcev1ResourceClaim ForAttribute(string name, string driver, string attribute, string value, int count = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1ResourceClaimSpec
        {
            Devices = new V1DeviceClaim
            {
                Requests =
                [
                    new V1DeviceRequest
                    {
                        Name = "vgpu",
                        Exactly = new V1ExactDeviceRequest
                        {
                            DeviceClassName = DeviceClassName,
                            AllocationMode = "ExactCount",
                            Count = count,
                            Selectors = [new V1DeviceSelector { Cel = new V1CELDeviceSelector { Expression = $"device.attributes[\"{driver}\"].{attribute} == \"{value}\"" } }],
                        },
                    },
                ],
            },
        },
    };
}
