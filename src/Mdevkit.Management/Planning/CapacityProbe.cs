using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>
/// Probes a real parent through mdevctl's start and stop (so callout scripts see the throw-away devices
/// like any transient device), under fresh UUIDs that nothing defines, then stores the model. An NVIDIA SR-IOV
/// GPU is probed as one parent, its physical function, with each throw-away vGPU on a virtual function of its own.
/// </summary>
public sealed class CapacityProbe(MdevctlEnvironment environment, DefinitionStore definitions, DeviceManager manager, CapacityStore store, KernelDevices kernel)
{
    /// <summary>Refuses a parent that does not exist or carries devices: the probe must see it idle, and must not disturb anyone.</summary>
    /// <exception cref="MdevctlException">With the reason.</exception>
    public void RequireIdle(string parent)
    {
        var gpus = SysfsReads.Read(kernel.NvidiaGpus);
        if (gpus.FirstOrDefault(gpu => gpu.Function == parent) is { } gpu)
        {
            var onGpu = SysfsReads.Read(kernel.Active).Count(device => gpu.VirtualFunctions.Contains(device.Parent));
            if (onGpu > 0)
            {
                throw new MdevctlException($"GPU {parent} has {Devices(onGpu)} on its virtual functions; probing needs an idle GPU (stop them first)");
            }
            return;
        }
        if (gpus.FirstOrDefault(gpu => gpu.Enabled && gpu.VirtualFunctions.Contains(parent)) is { } physical)
        {
            throw new MdevctlException($"{parent} is a virtual function of GPU {physical.Function}, whose capacity its virtual functions share: probe {physical.Function}");
        }
        if (!environment.Sysfs.ParentExists(parent))
        {
            throw new MdevctlException($"Unable to find parent device '{parent}'");
        }
        var active = SysfsReads.Read(environment.Sysfs.GetActiveDevices).Count(device => device.Parent == parent);
        if (active > 0)
        {
            throw new MdevctlException($"Parent {parent} has {Devices(active)}; probing needs an idle parent (stop them first)");
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
        var model = SysfsReads.Read(kernel.NvidiaGpus).FirstOrDefault(gpu => gpu.Function == parent) is { } gpu
            ? ProbeGpu(gpu, cancellation)
            : CapacityInference.Infer(parent, new Target(definitions, manager, kernel, [parent], onePerPlace: false), cancellation);
        store.Save(model);
        return model;
    }

    // A GPU without virtual functions gets them for the probe (all, as they would be for use) and loses them again after.
    private CapacityModel ProbeGpu(SriovGpu gpu, CancellationToken cancellation)
    {
        if (!gpu.Enabled)
        {
            Change(gpu.Function, "enable", () => kernel.EnableVirtualFunctions(gpu));
        }
        try
        {
            var functions = gpu.Enabled ? gpu.VirtualFunctions : SysfsReads.Read(() => environment.Sysfs.GetVirtualFunctions(gpu.Function));
            var types = SysfsReads.Read(() => kernel.Types(functions[0]));
            var model = CapacityInference.InferGpu(gpu.Function, functions.Count, new Target(definitions, manager, kernel, functions, onePerPlace: true),
                types.ToDictionary(type => type.Id, VgpuFramebuffer.MiB), cancellation);
            return model with { Types = [.. model.Types.Select(type => type with { Name = types.FirstOrDefault(seen => seen.Id == type.Type)?.Name })] };
        }
        finally
        {
            if (!gpu.Enabled)
            {
                Change(gpu.Function, "disable", () => kernel.DisableVirtualFunctions(gpu.Function));
            }
        }
    }

    private static void Change(string gpu, string verb, Action change)
    {
        try
        {
            change();
        }
        catch (SysfsException e)
        {
            throw MdevctlException.Wrap($"Unable to {verb} the virtual functions of {gpu}", e);
        }
    }

    private static string Devices(int count) => $"{count} active device{(count == 1 ? "" : "s")}";

    // Devices go on `places` in order: all on the one parent, or each on the next free virtual function of a GPU.
    private sealed class Target(DefinitionStore definitions, DeviceManager manager, KernelDevices kernel, IReadOnlyList<string> places, bool onePerPlace) : IProbeTarget
    {
        private readonly Dictionary<Guid, string> _made = [];

        // On a GPU, what a free virtual function offers; none when every one is taken.
        public IReadOnlyDictionary<string, int> Availability() =>
            Place() is { } place ? SysfsReads.Read(() => kernel.Types(place)).ToDictionary(type => type.Id, type => type.AvailableInstances) : new Dictionary<string, int>();

        public Guid Create(string type)
        {
            var uuid = Guid.NewGuid();
            // A random UUID colliding is all but impossible; checking costs one lookup and makes "never touches
            // a defined or running device" a fact rather than a likelihood.
            while (kernel.TryGetActive(uuid, out _) || definitions.Load(null, uuid).Count > 0)
            {
                uuid = Guid.NewGuid();
            }
            var place = Place() ?? throw new MdevctlException($"No available instances of {type}");
            manager.Start(new StartRequest(uuid, place, type));
            _made.Add(uuid, place);
            return uuid;
        }

        public void Remove(Guid uuid)
        {
            manager.Stop(uuid);
            _made.Remove(uuid);
        }

        private string? Place() => onePerPlace ? places.FirstOrDefault(place => !_made.ContainsValue(place)) : places[0];
    }
}
