using System.Globalization;
using Mdevkit.Management;
using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>
/// Reads what a node publishes from the host: every parent with its stored capacity model (or, when it was never probed
/// or its driver now offers a type the model does not know, its current offer as independent types with the running
/// devices' instances given back), and each NVIDIA SR-IOV GPU as one parent, its physical function, when it was probed.
/// An SR-IOV GPU never probed is left out: without a model its virtual functions' shared framebuffer cannot be told.
/// </summary>
public static class NodeCapacityReader
{
    /// <summary>The node's parents as they are now.</summary>
    /// <exception cref="SysfsException">sysfs cannot be read.</exception>
    /// <exception cref="MdevctlException">A stored model is broken.</exception>
    public static NodeCapacity Read(ManagedHost host, string nodeName)
    {
        var kernel = host.Kernel;
        var running = kernel.Active();
        var gpus = kernel.NvidiaGpus();
        var onGpus = gpus.SelectMany(gpu => gpu.VirtualFunctions).ToHashSet(StringComparer.Ordinal);
        var parents = new List<SliceParent>();
        foreach (var parent in kernel.ParentNames().Where(name => !onGpus.Contains(name)))
        {
            var types = kernel.Types(parent);
            var devices = running.Where(device => device.Parent == parent).ToList();
            var model = Current(host.CapacityModels.TryLoad(parent), types)
                ?? CapacityModel.FromAvailability(parent, types.Select(type => (type.Id, type.AvailableInstances + devices.Count(device => device.Type == type.Id))));
            parents.Add(new SliceParent(model, types, devices, NumaNode(host.Environment.Sysfs, host.Environment.Sysfs.TryLocateParent(parent))));
        }
        foreach (var gpu in gpus)
        {
            var types = gpu.Enabled ? kernel.Types(gpu.VirtualFunctions[0]) : [];
            if (Current(host.CapacityModels.TryLoad(gpu.Function), types) is { Slots: not null } model)
            {
                parents.Add(new SliceParent(model with { Slots = gpu.VirtualFunctions.Count }, types,
                    [.. running.Where(device => gpu.VirtualFunctions.Contains(device.Parent))], NumaNode(host.Environment.Sysfs, host.Environment.Sysfs.TryLocatePciFunction(gpu.Function))));
            }
        }
        return new NodeCapacity(nodeName, [.. parents.OrderBy(parent => parent.Model.Parent, StringComparer.Ordinal)]);
    }

    private static CapacityModel? Current(CapacityModel? stored, IReadOnlyList<MdevTypeInfo> offer) =>
        stored is not null && offer.All(type => stored.Types.Any(known => known.Type == type.Id)) ? stored : null;

    // The kernel writes -1 for a device without a NUMA node.
    private static int? NumaNode(SysfsRoot sysfs, DeviceLocation? location) =>
        location is not null && int.TryParse(sysfs.ReadOptionalAttribute(location.Path, SysfsNames.NumaNode), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var node) && node >= 0
            ? node
            : null;
}
