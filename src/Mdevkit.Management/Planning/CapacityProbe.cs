namespace Mdevkit.Management.Planning;

/// <summary>
/// Probes a real parent through mdevctl's start and stop (so callout scripts see the throw-away devices
/// like any transient device), under fresh UUIDs that nothing defines, then stores the model.
/// </summary>
public sealed class CapacityProbe(MdevctlEnvironment environment, DefinitionStore definitions, DeviceManager manager, CapacityStore store)
{
    /// <summary>Refuses a parent that does not exist or carries devices: the probe must see it idle, and must not disturb anyone.</summary>
    /// <exception cref="MdevctlException">With the reason.</exception>
    public void RequireIdle(string parent)
    {
        if (!environment.Sysfs.ParentExists(parent))
        {
            throw new MdevctlException($"Unable to find parent device '{parent}'");
        }
        var active = SysfsReads.Read(environment.Sysfs.GetActiveDevices).Count(device => device.Parent == parent);
        if (active > 0)
        {
            throw new MdevctlException($"Parent {parent} has {active} active device{(active == 1 ? "" : "s")}; probing needs an idle parent (stop them first)");
        }
    }

    /// <summary>Probes an idle parent and stores its model.</summary>
    /// <exception cref="MdevctlException">The parent is busy, or a device could not be made or removed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; every throw-away device is gone again.</exception>
    public CapacityModel Probe(string parent, CancellationToken cancellation = default)
    {
        // No other change to the root between the idle check and the model's write: a define --fill or apply
        // meanwhile would both disturb the probe and be disturbed by it.
        using var rootLock = RootLock.Acquire(environment);
        RequireIdle(parent);
        var model = CapacityInference.Infer(parent, new Target(environment, definitions, manager, parent), cancellation);
        store.Save(model);
        return model;
    }

    private sealed class Target(MdevctlEnvironment environment, DefinitionStore definitions, DeviceManager manager, string parent) : IProbeTarget
    {
        public IReadOnlyDictionary<string, int> Availability() =>
            SysfsReads.Read(() => environment.Sysfs.GetTypes(parent)).ToDictionary(type => type.Id, type => type.AvailableInstances);

        public Guid Create(string type)
        {
            var uuid = Guid.NewGuid();
            // A random UUID colliding is all but impossible; checking costs one lookup and makes "never touches
            // a defined or running device" a fact rather than a likelihood.
            while (environment.Sysfs.TryGetActiveDevice(uuid, out _) || definitions.Load(null, uuid).Count > 0)
            {
                uuid = Guid.NewGuid();
            }
            return manager.Start(new StartRequest(uuid, parent, type));
        }

        public void Remove(Guid uuid) => manager.Stop(uuid);
    }
}
