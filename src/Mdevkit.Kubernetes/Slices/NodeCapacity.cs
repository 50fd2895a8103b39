using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>One parent as the slices publish it: its capacity model and what the host shows of it now.</summary>
/// <param name="Model">
/// What an idle parent holds: the probed model, or for a parent never probed <see cref="CapacityModel.FromAvailability"/>
/// of its offer with every running device's instance given back (the devices are counted in again from <paramref name="Devices"/>).
/// An SR-IOV GPU is its physical function, with <see cref="CapacityModel.Slots"/> its virtual functions.
/// </param>
/// <param name="Types">The types as sysfs lists them (names, device API, description); a type of the model missing here is still published.</param>
/// <param name="Devices">The devices that run on the parent now (on an SR-IOV GPU, on any of its virtual functions).</param>
/// <param name="NumaNode">The NUMA node of the parent's device, when the kernel states one.</param>
public sealed record SliceParent(CapacityModel Model, IReadOnlyList<MdevTypeInfo> Types, IReadOnlyList<ActiveDevice> Devices, int? NumaNode = null);

/// <summary>What one node publishes: its name (the pool's) and its parents.</summary>
/// <param name="NodeName">The Kubernetes node name.</param>
/// <param name="Parents">The parents, in the order their devices are listed.</param>
public sealed record NodeCapacity(string NodeName, IReadOnlyList<SliceParent> Parents);
