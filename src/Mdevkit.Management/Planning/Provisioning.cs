using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>A device a transaction made: its UUID, where, and of which type.</summary>
/// <param name="Uuid">The new device's UUID.</param>
/// <param name="Parent">Its parent.</param>
/// <param name="Type">Its type.</param>
public sealed record MadeDevice(Guid Uuid, string Parent, string Type);

/// <summary>
/// The all-or-nothing operations over many devices: carrying out a plan, filling a parent with one type,
/// and starting or stopping a group. Any failure undoes the steps already taken, newest first. Each holds the
/// root's lock from its first check to its last step (or undo), so two of them never interleave: the second
/// waits, then starts from what the first left.
/// </summary>
public sealed class Provisioning(MdevctlEnvironment environment, DeviceManager manager, GroupStore groups, Planner planner, KernelDevices kernel)
{
    /// <summary>
    /// Checks that <paramref name="plan"/> still fits, enables the virtual functions of each GPU it needs them on, then
    /// defines and starts every device of it.
    /// </summary>
    /// <exception cref="MdevctlException">
    /// It no longer fits (nothing is made), or a device could not be made; none of the plan's devices remain, and virtual
    /// functions it enabled are disabled again.
    /// </exception>
    public IReadOnlyList<MadeDevice> Apply(Plan plan)
    {
        using var rootLock = RootLock.Acquire(environment);
        // Refused up front rather than made and rolled back, which scripts and notifiers would see.
        var gpus = planner.RequireFits(plan);
        return DeviceTransaction.Run(manager, environment, transaction =>
        {
            foreach (var gpu in gpus)
            {
                transaction.EnableVirtualFunctions(kernel, gpu);
            }
            return plan.Devices.Select(device =>
            {
                var uuid = transaction.Define(device.Parent, device.Type, autoStart: false);
                transaction.Start(uuid, device.Parent);
                return new MadeDevice(uuid, device.Parent, device.Type);
            }).ToList();
        });
    }

    /// <summary>
    /// Starts a device as <see cref="DeviceManager.Start"/> does, except when its parent is an NVIDIA SR-IOV GPU's
    /// physical function, which takes no device itself: then the device (a transient one, of the request's type) goes
    /// where the planner puts one of its type on that GPU (<see cref="Planner.PlanOnGpu"/>: its first free virtual
    /// function, if its model holds one more), enabling the GPU's virtual functions first when it has none. The
    /// device's parent is then that function (<see cref="KernelDevices.TryGetActive"/> tells it).
    /// </summary>
    /// <returns>The device's UUID.</returns>
    /// <exception cref="MdevctlException">
    /// As <see cref="DeviceManager.Start"/>; on a GPU: it was never probed, its model holds no more of the type, or the
    /// device could not be made (virtual functions enabled for it are disabled again).
    /// </exception>
    public Guid Start(StartRequest request)
    {
        if (request is not { Parent: { } gpu, Type: { } type, Json: null } || !SysfsReads.Read(kernel.NvidiaGpus).Any(candidate => candidate.Function == gpu))
        {
            return manager.Start(request);
        }
        using var rootLock = RootLock.Acquire(environment);
        // A GPU unplugged since the look gets the ordinary start's answer.
        if (planner.PlanOnGpu(gpu, type) is not { } plan)
        {
            return manager.Start(request);
        }
        if (plan.Devices is not [var device])
        {
            throw new MdevctlException($"Cannot start a {type} on GPU {gpu}", [.. plan.Unplaced.Select(unplaced => unplaced.Reason)]);
        }
        var gpus = planner.RequireFits(plan);
        var uuid = request.Uuid ?? Guid.NewGuid();
        return DeviceTransaction.Run(manager, environment, transaction =>
        {
            foreach (var disabled in gpus)
            {
                transaction.EnableVirtualFunctions(kernel, disabled);
            }
            transaction.StartTransient(uuid, device.Parent, type);
            return uuid;
        });
    }

    /// <summary>
    /// Defines as many devices of <paramref name="type"/> as <paramref name="parent"/> offers now; with
    /// <paramref name="start"/>, starts each as it goes and stops when the parent offers no more.
    /// </summary>
    /// <exception cref="MdevctlException">The parent offers none, or a device could not be made; none remain then.</exception>
    public IReadOnlyList<MadeDevice> Fill(string parent, string type, bool autoStart, bool start)
    {
        using var rootLock = RootLock.Acquire(environment);
        var offered = Available(parent, type) ?? throw new MdevctlException($"Parent {parent} does not support mdev type {type}");
        if (offered == 0)
        {
            throw new MdevctlException($"No available instances of {type} on {parent}");
        }
        return DeviceTransaction.Run(manager, environment, transaction =>
        {
            var made = new List<MadeDevice>();
            // Started devices are counted by the parent itself, which knows better than the first reading.
            while (start ? Available(parent, type) > 0 : made.Count < offered)
            {
                var uuid = transaction.Define(parent, type, autoStart);
                if (start)
                {
                    transaction.Start(uuid, parent);
                }
                made.Add(new MadeDevice(uuid, parent, type));
            }
            return made;
        });
    }

    /// <summary>Starts every member of a group that is not running; all or none.</summary>
    /// <exception cref="MdevctlException">The group is empty or a member failed to start; those started are stopped again.</exception>
    public IReadOnlyList<Guid> StartGroup(string name)
    {
        using var rootLock = RootLock.Acquire(environment);
        return DeviceTransaction.Run(manager, environment, transaction =>
        {
            var started = new List<Guid>();
            foreach (var uuid in RequireMembers(name).Where(uuid => !environment.Sysfs.TryGetActiveDevice(uuid, out _)))
            {
                InGroup(name, "start", uuid, () => transaction.Start(uuid));
                started.Add(uuid);
            }
            return started;
        });
    }

    /// <summary>Stops every running member of a group; all or none.</summary>
    /// <exception cref="MdevctlException">The group is empty or a member failed to stop; those stopped are started again.</exception>
    public IReadOnlyList<Guid> StopGroup(string name)
    {
        using var rootLock = RootLock.Acquire(environment);
        return DeviceTransaction.Run(manager, environment, transaction =>
        {
            var stopped = new List<Guid>();
            foreach (var uuid in RequireMembers(name))
            {
                if (environment.Sysfs.TryGetActiveDevice(uuid, out var running))
                {
                    InGroup(name, "stop", uuid, () => transaction.Stop(running));
                    stopped.Add(uuid);
                }
            }
            return stopped;
        });
    }

    // A member's failure says which group and which device, above the member's own message.
    private static void InGroup(string name, string verb, Guid uuid, Action step)
    {
        try
        {
            step();
        }
        catch (MdevctlException e)
        {
            throw new MdevctlException($"Cannot {verb} group {name}: device {MdevUuid.Format(uuid)}: {e.Message}", [.. e.Causes]);
        }
    }

    private IReadOnlyList<Guid> RequireMembers(string name) =>
        groups.Members(name) is { Count: > 0 } members ? members : throw new MdevctlException($"Group {name} has no members");

    // Null when the parent does not list the type (some drivers hide a type that has nothing left).
    private int? Available(string parent, string type)
    {
        if (!environment.Sysfs.ParentExists(parent))
        {
            throw new MdevctlException($"Unable to find parent device '{parent}'");
        }
        return SysfsReads.Read(() => environment.Sysfs.GetTypes(parent)).FirstOrDefault(candidate => candidate.Id == type)?.AvailableInstances;
    }
}
