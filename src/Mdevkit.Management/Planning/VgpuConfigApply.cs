using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>
/// What a vGPU config asks of a host, as the reconciler keeps it: counts of a type per parent (a time-sliced GPU's
/// own, or one per virtual function of an SR-IOV GPU), and the SR-IOV GPUs whose types show only once their virtual
/// functions are enabled (they were never probed): those are enabled first, and the config read again.
/// </summary>
/// <param name="Counts">Parent, type id, count; in GPU order.</param>
/// <param name="Enable">GPUs to enable the virtual functions of first.</param>
public sealed record VgpuConfigDemand(IReadOnlyList<(string Parent, string Type, int Count)> Counts, IReadOnlyList<SriovGpu> Enable);

/// <summary>What applying a vGPU config changed: the devices it made, and the ones it stopped because the config has no room for them.</summary>
/// <param name="Made">New devices, started as transient devices, as vgpu-device-manager makes them.</param>
/// <param name="Stopped">Devices that ran on a configured GPU beyond what the config asks for; their definitions, if any, stay.</param>
public sealed record VgpuConfigResult(IReadOnlyList<MadeDevice> Made, IReadOnlyList<MadeDevice> Stopped);

/// <summary>
/// Brings NVIDIA's GPUs to the vGPUs a config of NVIDIA's vgpu-device-manager asks for, with that tool's reading of it:
/// GPUs are NVIDIA's VGA and 3D controllers that are not virtual functions, indexed in PCI address order; an entry applies
/// to the GPUs its <c>devices</c> and <c>device-filter</c> select, a later entry replacing an earlier one's on the same
/// GPU; a selected GPU ends up with exactly the configured vGPUs, types matched by name (<c>A40-12Q</c> for
/// <c>NVIDIA A40-12Q</c>), and other GPUs are not touched. Unlike that tool it does not clear a GPU first: vGPUs the
/// config wants stay as they run, only the surplus is stopped, and the whole change is one transaction.
/// </summary>
public sealed class VgpuConfigApply(MdevctlEnvironment environment, DeviceManager manager, KernelDevices kernel, CapacityStore store, DefinitionStore definitions)
{
    private const int NvidiaVendor = 0x10de;
    private static readonly int[] s_gpuClasses = [0x030000, 0x030200];

    // One GPU as the config indexes it, with its SR-IOV side when it has one.
    private sealed record Gpu(int Index, string Function, SriovGpu? Sriov)
    {
        public override string ToString() => $"GPU {Index} ({Function})";
    }

    /// <summary>Applies the entries of one config, all or nothing.</summary>
    /// <exception cref="MdevctlException">
    /// It does not fit (a type a GPU does not offer, or more than a probed GPU holds: nothing is changed), or a step
    /// failed (everything done is undone: devices made are removed, devices stopped are started, VFs enabled are disabled).
    /// </exception>
    public VgpuConfigResult Apply(IReadOnlyList<VgpuConfigEntry> entries)
    {
        using var rootLock = RootLock.Acquire(environment);
        var gpus = Gpus();
        var desired = Desired(gpus, entries);
        // What can be judged before any change is: names a GPU offers now, and counts against a probed model.
        var misfits = desired.SelectMany(wanted => Misfits(gpus[wanted.Key].Gpu, wanted.Value)).ToList();
        if (misfits.Count > 0)
        {
            throw new MdevctlException("The vGPU config does not fit this host; nothing was changed", [.. misfits]);
        }
        var made = new List<MadeDevice>();
        var stopped = new List<MadeDevice>();
        return DeviceTransaction.Run(manager, environment, transaction =>
        {
            foreach (var (index, wanted) in desired)
            {
                try
                {
                    Configure(transaction, gpus[index].Gpu, wanted, made, stopped);
                }
                catch (MdevctlException e)
                {
                    // Said before the transaction undoes it all, which is what the caller sees next (or a warning of a step that could not be undone).
                    throw new MdevctlException($"Cannot apply the vGPU config to {gpus[index].Gpu}; every change is undone", [e.Message, .. e.Causes]);
                }
            }
            return new VgpuConfigResult(made, stopped);
        });
    }

    /// <summary>
    /// What the config asks of the GPUs it selects, as the reconciler declares it: on a time-sliced GPU, each type's
    /// count on the GPU; on an SR-IOV GPU, one of a type per virtual function, first on the functions where one of
    /// <paramref name="ours"/> runs that type now, then on the others that run nothing and that no definition names, in
    /// index order. Functions that run another's device are left to it.
    /// </summary>
    /// <param name="entries">The selected config.</param>
    /// <param name="ours">The devices the caller made for the config before.</param>
    /// <exception cref="MdevctlException">A GPU does not offer a configured type, or has too few virtual functions.</exception>
    public VgpuConfigDemand Demand(IReadOnlyList<VgpuConfigEntry> entries, IReadOnlySet<Guid> ours)
    {
        var gpus = Gpus();
        var counts = new List<(string, string, int)>();
        var enable = new List<SriovGpu>();
        foreach (var (index, wanted) in Desired(gpus, entries))
        {
            var gpu = gpus[index].Gpu;
            var places = Places(gpu);
            if (Names(gpu, places) is not { } names)
            {
                enable.Add(gpu.Sriov!);
                continue;
            }
            var types = wanted.Select(count => (Type: names.TryGetValue(count.Key, out var type) ? type : throw new MdevctlException($"{gpu} does not offer vGPU type {count.Key}"), count.Value)).ToList();
            if (gpu.Sriov is null)
            {
                counts.AddRange(types.Select(count => (gpu.Function, count.Type, count.Value)));
                continue;
            }
            var running = SysfsReads.Read(kernel.Active).Where(device => places.Contains(device.Parent)).ToList();
            var free = places.Where(place => !running.Any(device => device.Parent == place)).Except(definitions.Load().Select(definition => definition.Parent)).ToList();
            foreach (var (type, count) in types)
            {
                var mine = running.Where(device => device.Type == type && ours.Contains(device.Uuid)).Select(device => device.Parent).Take(count).ToList();
                var more = free.Take(count - mine.Count).ToList();
                if (mine.Count + more.Count < count)
                {
                    throw new MdevctlException($"{gpu} has no free virtual function for another {type}");
                }
                free.RemoveAll(more.Contains);
                counts.AddRange(places.Where(place => mine.Contains(place) || more.Contains(place)).Select(place => (place, type, 1)));
            }
        }
        return new VgpuConfigDemand(counts, enable);
    }

    // The vGPUs per GPU index the entries ask for: an entry applies to the GPUs it selects, a later one replacing an earlier one's.
    private static SortedDictionary<int, IReadOnlyDictionary<string, int>> Desired(List<(Gpu Gpu, PciIdentity Identity)> gpus, IReadOnlyList<VgpuConfigEntry> entries)
    {
        var desired = new SortedDictionary<int, IReadOnlyDictionary<string, int>>();
        foreach (var entry in entries)
        {
            foreach (var (gpu, identity) in gpus)
            {
                if (entry.Matches(gpu.Index, identity.Device, identity.Vendor))
                {
                    desired[gpu.Index] = entry.VgpuDevices;
                }
            }
        }
        return desired;
    }

    private void Configure(DeviceTransaction transaction, Gpu gpu, IReadOnlyDictionary<string, int> wanted, List<MadeDevice> made, List<MadeDevice> stopped)
    {
        if (gpu.Sriov is { Enabled: false } sriov)
        {
            transaction.EnableVirtualFunctions(kernel, sriov);
        }
        var places = Places(gpu);
        var names = Names(gpu, places) ?? [];
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, count) in wanted)
        {
            counts[names.TryGetValue(name, out var type) ? type : throw new MdevctlException($"{gpu} does not offer vGPU type {name}")] = count;
        }
        var kept = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var device in SysfsReads.Read(kernel.Active).Where(device => places.Contains(device.Parent)))
        {
            if (kept.GetValueOrDefault(device.Type) < counts.GetValueOrDefault(device.Type))
            {
                kept[device.Type] = kept.GetValueOrDefault(device.Type) + 1;
                continue;
            }
            transaction.Stop(device);
            stopped.Add(new MadeDevice(device.Uuid, device.Parent, device.Type));
        }
        foreach (var (type, count) in counts)
        {
            for (var i = kept.GetValueOrDefault(type); i < count; i++)
            {
                var place = gpu.Sriov is null ? gpu.Function
                    : FreeFunction(places) ?? throw new MdevctlException($"{gpu} has no free virtual function for another {type}");
                made.Add(new MadeDevice(transaction.StartTransient(place, type), place, type));
            }
        }
    }

    // A virtual function that runs nothing and that no definition names, in index order.
    private string? FreeFunction(IReadOnlyList<string> functions)
    {
        var busy = SysfsReads.Read(kernel.Active).Select(device => device.Parent).Concat(definitions.Load().Select(definition => definition.Parent)).ToHashSet(StringComparer.Ordinal);
        return functions.FirstOrDefault(function => !busy.Contains(function));
    }

    private IEnumerable<string> Misfits(Gpu gpu, IReadOnlyDictionary<string, int> wanted)
    {
        if (Names(gpu, Places(gpu)) is not { } names)
        {
            // Its virtual functions are not enabled and it was never probed: its types show once the transaction enables them.
            yield break;
        }
        foreach (var name in wanted.Keys.Where(name => !names.ContainsKey(name)))
        {
            yield return $"{gpu} does not offer vGPU type {name}{(gpu.Sriov is null ? "" : " (a vGPU 17+ GPU lists only what fits now: probing it records every type)")}";
        }
        var counts = wanted.Where(count => names.ContainsKey(count.Key)).ToDictionary(count => names[count.Key], count => count.Value);
        if (store.TryLoad(gpu.Function) is { } model && counts.Count == wanted.Count && !model.Fits(counts))
        {
            yield return $"{gpu} cannot hold {string.Join(", ", wanted.Select(count => $"{count.Value}x {count.Key}"))} ({Describe(model.Kind)})";
        }
    }

    private static string Describe(CapacityKind kind) => kind switch
    {
        CapacityKind.OneSize => "one framebuffer size at a time",
        CapacityKind.Exclusive => "one type at a time",
        _ => "not enough capacity",
    };

    // Where the GPU's vGPUs live: the GPU itself (time-sliced, mdev), or its virtual functions.
    private IReadOnlyList<string> Places(Gpu gpu) => gpu.Sriov is null ? [gpu.Function]
        : SysfsReads.Read(kernel.NvidiaGpus).First(sriov => sriov.Function == gpu.Function).VirtualFunctions;

    /// <summary>
    /// The GPU's type names as NVIDIA's configs spell them (the last word of the type's name: <c>A40-12Q</c> of <c>NVIDIA
    /// A40-12Q</c>) → type ids: what the GPU or a free virtual function lists now, and what its probe recorded. Null when
    /// nothing can be known (no virtual functions yet, never probed).
    /// </summary>
    private Dictionary<string, string>? Names(Gpu gpu, IReadOnlyList<string> places)
    {
        var types = new List<(string Id, string? Name)>();
        if (gpu.Sriov is null ? kernel.ParentExists(gpu.Function) : gpu.Sriov.Enabled || kernel.ParentExists(places[0]))
        {
            var active = SysfsReads.Read(kernel.Active).Select(device => device.Parent).ToHashSet(StringComparer.Ordinal);
            var lister = gpu.Sriov is null ? gpu.Function : places.FirstOrDefault(place => !active.Contains(place));
            if (lister is not null)
            {
                types.AddRange(SysfsReads.Read(() => kernel.Types(lister)).Select(type => (type.Id, type.Name)));
            }
        }
        var model = store.TryLoad(gpu.Function);
        types.AddRange(model?.Types.Select(type => (type.Type, type.Name)) ?? []);
        if (types.Count == 0 && gpu.Sriov is { Enabled: false })
        {
            return null;
        }
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, name) in types.Where(type => type.Name is not null))
        {
            names.TryAdd(name!.Trim().Split(' ')[^1], id);
        }
        return names;
    }

    // NVIDIA's GPUs as the config indexes them: VGA and 3D controllers that are not virtual functions, in PCI address order.
    private List<(Gpu Gpu, PciIdentity Identity)> Gpus()
    {
        var sriov = SysfsReads.Read(kernel.NvidiaGpus).ToDictionary(gpu => gpu.Function, StringComparer.Ordinal);
        var found = new List<(PciAddress Address, string Function, PciIdentity Identity)>();
        foreach (var function in SysfsReads.Read(environment.Sysfs.GetPciFunctionNames))
        {
            if (PciAddress.TryParse(function, out var address)
                && SysfsReads.Read(() => environment.Sysfs.GetPciIdentity(function)) is { Vendor: NvidiaVendor } identity
                && s_gpuClasses.Contains(identity.Class)
                && environment.Sysfs.GetPhysicalFunction(function) is null)
            {
                found.Add((address, function, identity));
            }
        }
        return [.. found.OrderBy(gpu => (gpu.Address.Domain, gpu.Address.Bus, gpu.Address.Slot, gpu.Address.Function))
            .Select((gpu, index) => (new Gpu(index, gpu.Function, sriov.GetValueOrDefault(gpu.Function)), gpu.Identity))];
    }
}
