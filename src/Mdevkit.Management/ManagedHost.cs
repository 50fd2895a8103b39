using Mdevkit.Management.Libvirt;
using Mdevkit.Management.Planning;
using Mdevkit.Management.Reconcile;

namespace Mdevkit.Management;

/// <summary>
/// Every manager over one root, wired once: what the command line, the agent and any other host work
/// through, so that each sees the same definitions, lock, callouts and stored capacity models.
/// </summary>
public sealed class ManagedHost
{
    /// <param name="environment">The root and its warning sink.</param>
    /// <param name="scriptErrors">Where callout scripts' standard error goes.</param>
    /// <param name="vendorVfio">
    /// Whether NVIDIA's vendor-specific VFIO is managed beside mdev (<see cref="KernelDevices"/>): true for mdevkit,
    /// false where mdevkit answers as mdevctl, which does not know it.
    /// </param>
    public ManagedHost(MdevctlEnvironment environment, TextWriter scriptErrors, bool vendorVfio = true)
    {
        Environment = environment;
        Kernel = new KernelDevices(environment, vendorVfio);
        Definitions = new DefinitionStore(environment);
        Callouts = new Callouts(environment, scriptErrors);
        Inventory = new DeviceInventory(environment, Definitions, Callouts, Kernel);
        Manager = new DeviceManager(environment, Definitions, Callouts, Kernel);
        CapacityModels = new CapacityStore(environment);
        Groups = new GroupStore(environment);
        Probe = new CapacityProbe(environment, Definitions, Manager, CapacityModels, Kernel);
        Planner = new Planner(CapacityModels, Kernel, Definitions);
        Provisioning = new Provisioning(environment, Manager, Groups, Planner, Kernel);
        NodeDevices = new NodeDevices(environment, Inventory);
        VgpuConfigs = new VgpuConfigApply(environment, Manager, Kernel, CapacityModels, Definitions);
        Reconciler = new Reconciler(environment, Manager, Kernel, Planner, VgpuConfigs);
    }

    public MdevctlEnvironment Environment { get; }

    public KernelDevices Kernel { get; }

    public DefinitionStore Definitions { get; }

    public Callouts Callouts { get; }

    public DeviceInventory Inventory { get; }

    public DeviceManager Manager { get; }

    public CapacityStore CapacityModels { get; }

    public GroupStore Groups { get; }

    public CapacityProbe Probe { get; }

    public Planner Planner { get; }

    public Provisioning Provisioning { get; }

    public NodeDevices NodeDevices { get; }

    public VgpuConfigApply VgpuConfigs { get; }

    public Reconciler Reconciler { get; }
}
