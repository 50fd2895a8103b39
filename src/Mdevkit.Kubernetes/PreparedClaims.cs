using System.Globalization;
using System.Text.Json;
using Mdevkit.Management;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes;

/// <summary>A claim as the kubelet names it.</summary>
public sealed record ClaimRef(string Namespace, string Uid, string Name)
{
    public override string ToString() => $"claim {Namespace}/{Name}";
}

/// <summary>One device allocated to a claim on this node, with what its slice says it is.</summary>
/// <param name="Request">The claim's request (or <c>request/subrequest</c>) it was allocated for.</param>
/// <param name="Pool">Its pool.</param>
/// <param name="Device">Its name in the pool.</param>
/// <param name="Parent">The mdev parent, from the slice's <see cref="DraNames.ParentAttribute"/>.</param>
/// <param name="Type">The mdev type, from the slice's <see cref="DraNames.TypeAttribute"/>.</param>
public sealed record AllocatedDevice(string Request, string Pool, string Device, string Parent, string Type);

/// <summary>What the kubelet is told about a prepared device.</summary>
public sealed record PreparedDevice(string Request, string Pool, string Device, IReadOnlyList<string> CdiDeviceIds);

/// <summary>A prepared device's condition: healthy when <paramref name="Problem"/> is null, else what is wrong with it.</summary>
/// <param name="Pool">Its pool.</param>
/// <param name="Device">Its name in the pool.</param>
/// <param name="Problem">Why it is unhealthy, in one line; null when it runs where it was made.</param>
public sealed record DeviceCondition(string Pool, string Device, string? Problem);

/// <summary>A failure to prepare or unprepare one claim, told to the kubelet in one line.</summary>
public sealed class ClaimException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The claims this node prepared: their mdevs, CDI specs and device metadata, and the checkpoint that records them. The
/// checkpoint names a claim's devices before the first is made (state <see cref="CheckpointClaim.Preparing"/>) and is
/// completed once all are made and described, so a plugin killed halfway rolls the claim back when it starts again
/// (<see cref="Recover"/>), and an unprepare needs nothing but the checkpoint. Every change runs under the root's lock
/// (<see cref="RootLock"/>), shared with mdevctl, mdevkit and mdevkitd on the same root.
/// </summary>
public sealed class PreparedClaims(ManagedHost host, PluginPaths paths)
{
    private DeviceManager Manager => host.Manager;

    /// <summary>The answer for a claim prepared before, whose devices all still run; null when it has to be prepared.</summary>
    public IReadOnlyList<PreparedDevice>? TryGetPrepared(string claimUid)
    {
        using var rootLock = RootLock.Acquire(host.Environment);
        return Load().FirstOrDefault(claim => claim.Uid == claimUid) is { State: CheckpointClaim.Prepared } prepared && prepared.Devices.All(IsRunning)
            ? Answer(prepared)
            : null;
    }

    /// <summary>Makes the claim's mdevs and writes its CDI specs and metadata: all of it, or (after a failure) none of it.</summary>
    /// <exception cref="ClaimException">A device is taken by another, or could not be made or described.</exception>
    public IReadOnlyList<PreparedDevice> Prepare(ClaimRef claim, long generation, IReadOnlyList<AllocatedDevice> allocated)
    {
        using var rootLock = RootLock.Acquire(host.Environment);
        var claims = Load().ToList();
        var earlier = claims.Find(entry => entry.Uid == claim.Uid);
        if (earlier is { State: CheckpointClaim.Preparing })
        {
            // Left by a prepare that did not finish: its leftovers go before it is tried again.
            RollBack(earlier);
        }
        claims.RemoveAll(entry => entry.Uid == claim.Uid);
        // Each device of a request gets its own UUID, by its place among the request's devices.
        var devices = allocated.Select((device, index) => Plan(claim, device, allocated.Take(index).Count(other => other.Request == device.Request), earlier)).ToList();
        var entry = new CheckpointClaim(claim.Uid, claim.Namespace, claim.Name, CheckpointClaim.Preparing, devices, Files(claim, devices));
        Save([.. claims, entry]);
        try
        {
            for (var i = 0; i < devices.Count; i++)
            {
                if (!devices[i].Existed && !IsRunning(devices[i]))
                {
                    // On an SR-IOV GPU's physical function, the planner picks the virtual function (Provisioning.Start).
                    host.Provisioning.Start(new StartRequest(devices[i].Uuid, devices[i].Parent, devices[i].Type));
                    devices[i] = Located(devices[i]);
                }
            }
            // The virtual functions taken are recorded before anything else can fail, so unprepare removes exactly those.
            entry = entry with { Devices = [.. devices] };
            Save([.. claims, entry]);
            WriteFiles(claim, generation, devices);
        }
        catch (Exception e) when (e is MdevctlException or IOException or UnauthorizedAccessException or ClaimException)
        {
            RollBack(entry);
            Save(claims);
            // The kubelet shows one line: the planner's reasons go into it.
            throw e as ClaimException ?? new ClaimException($"{claim}: {string.Join(": ", [e.Message, .. (e as MdevctlException)?.Causes ?? []])}", e);
        }
        var prepared = entry with { State = CheckpointClaim.Prepared };
        Save([.. claims, prepared]);
        return Answer(prepared);
    }

    /// <summary>Removes what preparing the claim made; a claim it does not know was never prepared here, or is already undone.</summary>
    /// <exception cref="ClaimException">A device or file could not be removed; the checkpoint still names the claim, so a retry finishes the job.</exception>
    public void Unprepare(string claimUid)
    {
        using var rootLock = RootLock.Acquire(host.Environment);
        var claims = Load().ToList();
        if (claims.Find(entry => entry.Uid == claimUid) is not { } entry)
        {
            return;
        }
        try
        {
            RollBack(entry);
        }
        catch (Exception e) when (e is MdevctlException or IOException or UnauthorizedAccessException)
        {
            throw new ClaimException($"claim {entry.Namespace}/{entry.Name}: {e.Message}", e);
        }
        claims.Remove(entry);
        Save(claims);
    }

    /// <summary>The condition of every device of a prepared claim: whether its mdev or vGPU still runs where it was made.</summary>
    /// <exception cref="ClaimException">The checkpoint cannot be read.</exception>
    public IReadOnlyList<DeviceCondition> Conditions()
    {
        using var rootLock = RootLock.Acquire(host.Environment);
        return [.. Load().Where(claim => claim.State == CheckpointClaim.Prepared).SelectMany(claim => claim.Devices).Select(Condition)];
    }

    /// <summary>Rolls back every prepare a killed plugin left unfinished; returns the claims rolled back.</summary>
    public IReadOnlyList<ClaimRef> Recover()
    {
        using var rootLock = RootLock.Acquire(host.Environment);
        var claims = Load().ToList();
        var unfinished = claims.Where(entry => entry.State == CheckpointClaim.Preparing).ToList();
        foreach (var entry in unfinished)
        {
            RollBack(entry);
            claims.Remove(entry);
        }
        if (unfinished.Count > 0)
        {
            Save(claims);
        }
        return [.. unfinished.Select(entry => new ClaimRef(entry.Namespace, entry.Uid, entry.Name))];
    }

    /// <summary>The UUIDs of every device the checkpoint names, of claims prepared or being prepared: the driver's own, which its slices keep offering.</summary>
    /// <exception cref="ClaimException">The checkpoint is not valid.</exception>
    public IReadOnlySet<Guid> Devices()
    {
        using var rootLock = RootLock.Acquire(host.Environment);
        return Load().SelectMany(claim => claim.Devices).Select(device => device.Uuid).ToHashSet();
    }

    // The device's UUID, and whether it runs already: then it must be the allocated one, and stays when the claim goes,
    // unless an earlier prepare of this claim made it.
    private CheckpointDevice Plan(ClaimRef claim, AllocatedDevice device, int index, CheckpointClaim? earlier)
    {
        var planned = new CheckpointDevice(DeviceUuids.For(claim.Uid, device.Request, index), device.Parent, device.Type, device.Request, device.Pool, device.Device, Existed: false);
        if (!Manager.TryGetActive(planned.Uuid, out var running))
        {
            return planned;
        }
        if (!StandsFor(running, planned))
        {
            throw new ClaimException($"{claim}: mdev {MdevUuid.Format(planned.Uuid)} runs on {running.Parent} as {running.Type}, not on {device.Parent} as {device.Type} as allocated");
        }
        return Located(planned with { Existed = earlier?.Devices.Any(made => made.Uuid == planned.Uuid && !made.Existed) != true });
    }

    // The device with the virtual function it runs on, when it was allocated on an SR-IOV GPU.
    private CheckpointDevice Located(CheckpointDevice device) =>
        Manager.TryGetActive(device.Uuid, out var running) && running.Parent != device.Parent ? device with { Function = running.Parent } : device;

    // Whether a running device is the one allocated: of its type, on its parent, or on a virtual function of the GPU
    // its parent is (the one recorded, once known). The UUID is the claim's own, so nothing else runs under it there.
    private bool StandsFor(ActiveDevice running, CheckpointDevice device) =>
        running.Type == device.Type && (device.Function is { } function
            ? running.Parent == function
            : running.Parent == device.Parent || host.Kernel.NvidiaGpus().Any(gpu => gpu.Function == device.Parent && gpu.VirtualFunctions.Contains(running.Parent)));

    private List<string> Files(ClaimRef claim, IEnumerable<CheckpointDevice> devices) =>
    [
        paths.VfioSpec(claim.Uid),
        paths.MetadataSpec(claim.Uid),
        .. devices.Select(device => TopRequest(device.Request)).Distinct().Select(request => paths.MetadataFile(claim.Namespace, claim.Name, request)),
    ];

    private void WriteFiles(ClaimRef claim, long generation, IReadOnlyList<CheckpointDevice> devices)
    {
        var vfio = devices.Select(device => new CdiDevice(MdevUuid.Format(device.Uuid), new CdiContainerEdits(DeviceNodes:
        [
            new CdiDeviceNode("/dev/vfio/vfio"),
            new CdiDeviceNode($"/dev/vfio/{IommuGroup(claim, device).ToString(CultureInfo.InvariantCulture)}"),
        ])));
        Write(paths.VfioSpec(claim.Uid), JsonSerializer.Serialize(new CdiSpec(CdiSpec.Version, $"{DraNames.Driver}/vfio", [.. vfio]), DraJson.Default.CdiSpec));
        var requests = devices.GroupBy(device => TopRequest(device.Request)).ToList();
        foreach (var request in requests)
        {
            var metadata = new DeviceMetadata(DeviceMetadata.CurrentApiVersion, DeviceMetadata.KindName, new DeviceMetadataClaim(claim.Name, claim.Namespace, claim.Uid, generation),
            [
                new DeviceMetadataRequest(request.Key, [.. request.Select(device => new DeviceMetadataDevice(device.Device, DraNames.Driver, device.Pool, Attributes(device)))]),
            ]);
            Write(paths.MetadataFile(claim.Namespace, claim.Name, request.Key), JsonSerializer.Serialize(metadata, DraJson.Default.DeviceMetadata));
        }
        var mounts = requests.Select(request => new CdiDevice(MetadataDeviceName(claim.Uid, request.Key), new CdiContainerEdits(Mounts:
        [
            new CdiMount(paths.MetadataFile(claim.Namespace, claim.Name, request.Key), PluginPaths.ContainerMetadataFile(claim.Name, request.Key), ["ro", "bind"]),
        ])));
        Write(paths.MetadataSpec(claim.Uid), JsonSerializer.Serialize(new CdiSpec(CdiSpec.Version, $"{DraNames.Driver}/metadata", [.. mounts]), DraJson.Default.CdiSpec));
    }

    // What KubeVirt finds the device by: an mdev's UUID, or, for a vGPU of NVIDIA's vendor-specific VFIO (no mdev, the
    // virtual function itself goes to the VM as a PCI device), the function's address.
    private Dictionary<string, DeviceMetadataAttribute> Attributes(CheckpointDevice device) =>
        host.Kernel.IsVendorSlot(device.Function ?? device.Parent)
            ? new() { [DeviceMetadata.PciBusIdAttribute] = new(device.Function ?? device.Parent) }
            : new() { [DeviceMetadata.MdevUuidAttribute] = new(MdevUuid.Format(device.Uuid)) };

    private static void Write(string path, string json) => AtomicFile.Write(path, json + "\n");

    // The group the container opens: the mdev's own, or, for a vGPU of NVIDIA's vendor-specific VFIO, its virtual function's.
    private int IommuGroup(ClaimRef claim, CheckpointDevice device) =>
        (host.Environment.Sysfs.TryLocateDevice(device.Uuid) ?? host.Environment.Sysfs.TryLocatePciFunction(device.Function ?? device.Parent))?.IommuGroup
        ?? throw new ClaimException($"{claim}: mdev {MdevUuid.Format(device.Uuid)} has no IOMMU group");

    // Removes the files, then the devices this plugin made; a device someone else runs under the UUID is not its own.
    private void RollBack(CheckpointClaim entry)
    {
        // File.Delete would throw for a file whose directory was never made.
        foreach (var file in entry.Files.Where(File.Exists))
        {
            File.Delete(file);
        }
        var metadata = paths.MetadataClaimDirectory(entry.Namespace, entry.Name);
        if (Directory.Exists(metadata))
        {
            Directory.Delete(metadata, recursive: true);
        }
        foreach (var device in entry.Devices.Where(device => !device.Existed && IsRunning(device)).Reverse())
        {
            Manager.Stop(device.Uuid);
        }
    }

    private DeviceCondition Condition(CheckpointDevice device)
    {
        var place = device.Function is { } function ? $"{function} (a virtual function of {device.Parent})" : device.Parent;
        var problem = IsRunning(device) ? null
            : !host.Kernel.ParentExists(device.Function ?? device.Parent) ? $"its parent {place} is gone"
            : $"{MdevUuid.Format(device.Uuid)} no longer runs on {place}";
        return new DeviceCondition(device.Pool, device.Device, problem);
    }

    private bool IsRunning(CheckpointDevice device) => Manager.TryGetActive(device.Uuid, out var running) && StandsFor(running, device);

    private static IReadOnlyList<PreparedDevice> Answer(CheckpointClaim claim) =>
    [
        .. claim.Devices.Select(device => new PreparedDevice(device.Request, device.Pool, device.Device,
        [
            $"{DraNames.Driver}/vfio={MdevUuid.Format(device.Uuid)}",
            $"{DraNames.Driver}/metadata={MetadataDeviceName(claim.Uid, TopRequest(device.Request))}",
        ])),
    ];

    private static string MetadataDeviceName(string claimUid, string request) => $"{claimUid}_{request}";

    // A subrequest of firstAvailable (request/subrequest) is the request's: the pod names the request.
    private static string TopRequest(string request) => request.Split('/')[0];

    private IReadOnlyList<CheckpointClaim> Load()
    {
        if (!File.Exists(paths.Checkpoint))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(paths.Checkpoint), DraJson.Default.CheckpointFile)?.Claims
                ?? throw new ClaimException($"the checkpoint {paths.Checkpoint} is empty");
        }
        catch (JsonException e)
        {
            throw new ClaimException($"the checkpoint {paths.Checkpoint} is not valid: {e.Message}", e);
        }
    }

    private void Save(IReadOnlyList<CheckpointClaim> claims) =>
        Write(paths.Checkpoint, JsonSerializer.Serialize(new CheckpointFile(claims), DraJson.Default.CheckpointFile));
}
