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
        var devices = allocated.Select(device => Plan(claim, device, earlier)).ToList();
        var entry = new CheckpointClaim(claim.Uid, claim.Namespace, claim.Name, CheckpointClaim.Preparing, devices, Files(claim, devices));
        Save([.. claims, entry]);
        try
        {
            foreach (var device in devices.Where(device => !device.Existed && !IsRunning(device)))
            {
                Manager.Start(new StartRequest(device.Uuid, device.Parent, device.Type));
            }
            WriteFiles(claim, generation, devices);
        }
        catch (Exception e) when (e is MdevctlException or IOException or UnauthorizedAccessException or ClaimException)
        {
            RollBack(entry);
            Save(claims);
            throw e as ClaimException ?? new ClaimException($"{claim}: {e.Message}", e);
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
    private CheckpointDevice Plan(ClaimRef claim, AllocatedDevice device, CheckpointClaim? earlier)
    {
        var uuid = DeviceUuids.For(claim.Uid, device.Request);
        var existed = false;
        if (Manager.TryGetActive(uuid, out var running))
        {
            if (running.Parent != device.Parent || running.Type != device.Type)
            {
                throw new ClaimException($"{claim}: mdev {MdevUuid.Format(uuid)} runs on {running.Parent} as {running.Type}, not on {device.Parent} as {device.Type} as allocated");
            }
            existed = earlier?.Devices.Any(made => made.Uuid == uuid && !made.Existed) != true;
        }
        return new CheckpointDevice(uuid, device.Parent, device.Type, device.Request, device.Pool, device.Device, existed);
    }

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
                new DeviceMetadataRequest(request.Key, [.. request.Select(device => new DeviceMetadataDevice(device.Device, DraNames.Driver, device.Pool,
                    new Dictionary<string, DeviceMetadataAttribute> { [DeviceMetadata.MdevUuidAttribute] = new(MdevUuid.Format(device.Uuid)) }))]),
            ]);
            Write(paths.MetadataFile(claim.Namespace, claim.Name, request.Key), JsonSerializer.Serialize(metadata, DraJson.Default.DeviceMetadata));
        }
        var mounts = requests.Select(request => new CdiDevice(MetadataDeviceName(claim.Uid, request.Key), new CdiContainerEdits(Mounts:
        [
            new CdiMount(paths.MetadataFile(claim.Namespace, claim.Name, request.Key), PluginPaths.ContainerMetadataFile(claim.Name, request.Key), ["ro", "bind"]),
        ])));
        Write(paths.MetadataSpec(claim.Uid), JsonSerializer.Serialize(new CdiSpec(CdiSpec.Version, $"{DraNames.Driver}/metadata", [.. mounts]), DraJson.Default.CdiSpec));
    }

    private static void Write(string path, string json) => AtomicFile.Write(path, json + "\n");

    // The group the container opens: the mdev's own, or, for a vGPU of NVIDIA's vendor-specific VFIO, its virtual function's.
    private int IommuGroup(ClaimRef claim, CheckpointDevice device) =>
        (host.Environment.Sysfs.TryLocateDevice(device.Uuid) ?? host.Environment.Sysfs.TryLocateParent(device.Parent))?.IommuGroup
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

    private bool IsRunning(CheckpointDevice device) =>
        Manager.TryGetActive(device.Uuid, out var running) && running.Parent == device.Parent && running.Type == device.Type;

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
