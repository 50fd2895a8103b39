using Mdevkit.Management.Libvirt;
using Mdevkit.Management.Planning;

namespace Mdevkit.Management;

/// <summary>
/// Every manager over one root, wired once: what the command line, the agent and any other host work
/// through, so that each sees the same definitions, lock, callouts and stored capacity models.
/// </summary>
public sealed class ManagedHost
{
    /// <param name="environment">The root and its warning sink.</param>
    /// <param name="scriptErrors">Where callout scripts' standard error goes.</param>
    public ManagedHost(MdevctlEnvironment environment, TextWriter scriptErrors)
    {
        Environment = environment;
        Definitions = new DefinitionStore(environment);
        Callouts = new Callouts(environment, scriptErrors);
        Inventory = new DeviceInventory(environment, Definitions, Callouts);
        Manager = new DeviceManager(environment, Definitions, Callouts);
        CapacityModels = new CapacityStore(environment);
        Groups = new GroupStore(environment);
        Probe = new CapacityProbe(environment, Definitions, Manager, CapacityModels);
        Planner = new Planner(environment, CapacityModels);
        Provisioning = new Provisioning(environment, Manager, Groups, Planner);
        NodeDevices = new NodeDevices(environment, Inventory);
    }

    public MdevctlEnvironment Environment { get; }

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
}
