using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Reconcile;

/// <summary>One thing the reconciler does, or would do.</summary>
/// <param name="Kind"><c>enable-vfs</c>, <c>remove</c> or <c>create</c>.</param>
/// <param name="Uuid">The device (remove, create).</param>
/// <param name="Parent">The parent.</param>
/// <param name="Type">The device's type (remove, create).</param>
/// <param name="Reason">Why.</param>
public sealed record ReconcileAction(string Kind, Guid? Uuid, string Parent, string? Type, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        "enable-vfs" => $"enable-vfs {Parent}: {Reason}",
        _ => $"{Kind} {MdevUuid.Format(Uuid!.Value)} {Parent} {Type}: {Reason}",
    };
}

/// <summary>Where the host differs from its declaration and the reconciler cannot (yet) change that.</summary>
/// <param name="Kind">
/// <c>parent-absent</c> (waits for the parent), <c>not-owned</c> (a declared UUID runs as something else, made by
/// someone else), <c>taken-over</c> (a device the reconciler made now runs as something else), or <c>cannot-fit</c>.
/// </param>
/// <param name="Uuid">The device, when one is meant.</param>
/// <param name="Parent">The parent, when one is meant.</param>
/// <param name="Type">The type, when one is meant.</param>
/// <param name="Detail">What and why, in words.</param>
public sealed record ReconcileDrift(string Kind, Guid? Uuid, string? Parent, string? Type, string Detail)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {Detail}";
}

/// <summary>What reconciling the host would do now, and what it cannot.</summary>
/// <param name="Actions">In the order they are taken: virtual functions, removals, creations.</param>
/// <param name="Drift">What stays different.</param>
/// <param name="Leftovers">What a transaction killed halfway left, to be rolled back first.</param>
public sealed record ReconcilePlan(IReadOnlyList<ReconcileAction> Actions, IReadOnlyList<ReconcileDrift> Drift, IReadOnlyList<string> Leftovers)
{
    /// <summary>What is said when a plan does not fit.</summary>
    public const string RefusedMessage = "The declaration cannot fit this host; nothing was changed";

    /// <summary>Whether everything declared fits: otherwise nothing is done.</summary>
    public bool Fits => Drift.All(drift => drift.Kind != "cannot-fit");

    /// <summary>The plan as a dry run prints it: one line per step, then the drift, then the verdict.</summary>
    public string ToText() => string.Concat(
        Leftovers.Select(step => $"roll back {step}\n")
            .Concat(Actions.Select(action => $"{action}\n"))
            .Concat(Drift.Select(drift => $"drift {drift}\n"))
            .Append(!Fits ? "refused: the declaration cannot fit this host; nothing would be changed\n"
                : Actions.Count == 0 && Leftovers.Count == 0 ? "nothing to do\n" : ""));

    internal IReadOnlyList<OwnedDevice> Owned { get; init; } = [];

    internal bool OwnedChanged { get; init; }

    internal IReadOnlyList<(ActiveDevice Device, OwnedDevice Owned)> Removals { get; init; } = [];

    internal IReadOnlyList<OwnedDevice> Creations { get; init; } = [];

    internal IReadOnlyList<SriovGpu> Enabling { get; init; } = [];
}

/// <summary>
/// Keeps a host as its declaration (<see cref="HostDeclaration"/>) says: makes what is missing, removes what it made
/// and is no longer declared, and never touches a device it did not make (<see cref="OwnedDevices"/>). A change is
/// all or nothing: it is planned against the parents' capacity first, and refused whole when any of it cannot fit;
/// then it runs as one journaled <see cref="DeviceTransaction"/>. Devices are made transient (no mdevctl
/// definition): the declaration is their definition, and the reconciler brings them back.
/// </summary>
public sealed class Reconciler(MdevctlEnvironment environment, DeviceManager manager, KernelDevices kernel, Planner planner, VgpuConfigApply vgpuConfigs)
{
    /// <summary>What reconciling would do now; changes nothing.</summary>
    /// <exception cref="MdevctlException">The host or the ownership record cannot be read.</exception>
    public ReconcilePlan Plan(HostDeclaration declaration) =>
        Compute(declaration) with { Leftovers = DeviceTransaction.PendingRecovery(environment) };

    /// <summary>What a dry run prints for the root's declaration (<c>mdevkitd --dry-run</c>, <c>mdevkit reconcile --dry-run</c>), and whether it would be applied.</summary>
    /// <exception cref="InvalidInputException">The declaration cannot be read.</exception>
    /// <exception cref="MdevctlException">The host or the ownership record cannot be read.</exception>
    public (string Text, bool Fits) DryRun()
    {
        if (HostDeclaration.Load(environment) is not { } declaration)
        {
            return ($"no declaration at {HostDeclaration.PathOf(environment)}: nothing to reconcile\n", true);
        }
        var plan = Plan(declaration);
        return (plan.ToText(), plan.Fits);
    }

    /// <summary>Rolls back a transaction killed halfway; returns what was undone.</summary>
    public IReadOnlyList<string> Recover() => DeviceTransaction.Recover(manager, environment);

    /// <summary>
    /// Reconciles, all or nothing, under the root's lock: enables the virtual functions declared parents need, then
    /// (when everything fits) removes and creates in one transaction that also records what the reconciler owns.
    /// </summary>
    /// <param name="declaration">What the host should carry.</param>
    /// <param name="done">Told of each action once taken.</param>
    /// <returns>The plan carried out; when it does not <see cref="ReconcilePlan.Fits"/>, nothing but virtual functions changed.</returns>
    /// <exception cref="MdevctlException">A step failed: the others were undone.</exception>
    public ReconcilePlan Apply(HostDeclaration declaration, Action<ReconcileAction> done)
    {
        using var rootLock = RootLock.Acquire(environment);
        var leftovers = Recover();
        var plan = Compute(declaration);
        var enabling = plan.Actions.Where(action => action.Kind == "enable-vfs").ToList();
        foreach (var action in enabling)
        {
            try
            {
                kernel.EnableVirtualFunctions(plan.Enabling.First(gpu => gpu.Function == action.Parent));
            }
            catch (SysfsException e)
            {
                throw MdevctlException.Wrap($"Unable to enable the virtual functions of {action.Parent}", e);
            }
            done(action);
        }
        if (enabling.Count > 0)
        {
            // The functions are parents now, with their offer: plan again on them.
            var again = Compute(declaration);
            plan = again with { Actions = [.. enabling, .. again.Actions] };
        }
        plan = plan with { Leftovers = leftovers };
        if (!plan.Fits || (plan.Removals.Count == 0 && plan.Creations.Count == 0 && !plan.OwnedChanged))
        {
            return plan;
        }
        DeviceTransaction.Run(manager, environment, transaction =>
        {
            foreach (var (device, owned) in plan.Removals)
            {
                transaction.Stop(device, owned.Config);
                done(plan.Actions.First(action => action.Kind == "remove" && action.Uuid == device.Uuid));
            }
            foreach (var device in plan.Creations)
            {
                transaction.Start(device.Uuid, device.Parent, device.Config);
                done(plan.Actions.First(action => action.Kind == "create" && action.Uuid == device.Uuid));
            }
            transaction.ReplaceFile(MdevkitPaths.OwnedDevices, OwnedDevices.ToJson(plan.Owned));
            return true;
        });
        return plan;
    }

    private ReconcilePlan Compute(HostDeclaration declaration)
    {
        var (counted, enable) = WithVgpuConfig(declaration);
        return new Computation(environment, kernel, planner, counted, enable).Run();
    }

    // The declaration with its vGPU config's demand added to its counts (per GPU, or per virtual function), and the
    // GPUs whose virtual functions must be enabled before the config can be read on them.
    private (HostDeclaration Declaration, IReadOnlyList<SriovGpu> Enable) WithVgpuConfig(HostDeclaration declaration)
    {
        if (declaration.VgpuConfig is not { } config)
        {
            return (declaration, []);
        }
        var path = config.File.StartsWith('/') ? environment.Sysfs.PathOf(config.File.TrimStart('/'))
            : Path.Join(Path.GetDirectoryName(HostDeclaration.PathOf(environment)), config.File);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MdevctlException.Wrap($"Unable to read the vGPU config {path}", e);
        }
        var entries = VgpuConfigFile.Parse(text, path).Select(config.Select, path);
        var ours = OwnedDevices.Load(environment).Where(owned => owned.Entry != OwnedDevices.DeviceEntry).Select(owned => owned.Uuid).ToHashSet();
        var demand = vgpuConfigs.Demand(entries, ours);
        var counts = declaration.Counts.ToList();
        foreach (var (parent, type, count) in demand.Counts)
        {
            var declared = new DeclaredCount(parent, type, count);
            if (counts.Any(other => other.Key == declared.Key))
            {
                throw new InvalidInputException($"{HostDeclaration.PathOf(environment)}: {declared.Key} is counted in \"counts\" and by the vGPU config {path}");
            }
            counts.Add(declared);
        }
        return (declaration with { Counts = counts }, demand.Enable);
    }

    // One pass over the host: what is owned, what runs, what is declared.
    private sealed class Computation
    {
        private readonly Planner _planner;
        private readonly HostDeclaration _declaration;
        private readonly IReadOnlyList<OwnedDevice> _recorded;
        private readonly Dictionary<Guid, ActiveDevice> _active;
        private readonly HashSet<string> _parents;
        private readonly IReadOnlyList<SriovGpu> _withoutFunctions;
        private readonly SortedDictionary<string, SriovGpu> _enable = new(StringComparer.Ordinal);
        private readonly List<ReconcileDrift> _drift = [];
        private readonly List<OwnedDevice> _keep = [];
        private readonly List<(ActiveDevice Device, OwnedDevice Owned, string Reason)> _removals = [];
        private readonly List<(OwnedDevice Device, string Reason)> _creations = [];
        private List<OwnedDevice> _owned;

        public Computation(MdevctlEnvironment environment, KernelDevices kernel, Planner planner, HostDeclaration declaration, IReadOnlyList<SriovGpu> enable)
        {
            _planner = planner;
            _declaration = declaration;
            _recorded = OwnedDevices.Load(environment);
            _active = SysfsReads.Read(kernel.Active).ToDictionary(device => device.Uuid);
            _parents = [.. SysfsReads.Read(kernel.ParentNames)];
            _withoutFunctions = [.. SysfsReads.Read(kernel.NvidiaGpus).Where(gpu => !gpu.Enabled)];
            _owned = [.. _recorded];
            foreach (var gpu in enable)
            {
                _enable.TryAdd(gpu.Function, gpu);
            }
        }

        public ReconcilePlan Run()
        {
            // A device made by the reconciler that now runs as something else was taken over by someone: no longer its own.
            foreach (var owned in _owned.Where(owned => _active.ContainsKey(owned.Uuid) && !Runs(owned)))
            {
                var running = _active[owned.Uuid];
                _drift.Add(new ReconcileDrift("taken-over", owned.Uuid, running.Parent, running.Type,
                    $"{MdevUuid.Format(owned.Uuid)} was made on {owned.Parent} as {owned.Type} and runs on {running.Parent} as {running.Type} now: it is left alone and no longer owned"));
            }
            _owned = [.. _owned.Where(owned => !_active.ContainsKey(owned.Uuid) || Runs(owned))];
            Devices();
            var anywhere = Counts();
            Undeclared();
            var placed = PlaceAnywhere(anywhere);
            var record = _keep.Concat(_creations.Select(creation => creation.Device)).Concat(placed.Select(creation => creation.Device)).ToList();
            return new ReconcilePlan(
                [
                    .. _enable.Keys.Select(gpu => new ReconcileAction("enable-vfs", null, gpu, null, "declared devices go on its virtual functions")),
                    .. _removals.Select(removal => new ReconcileAction("remove", removal.Device.Uuid, removal.Device.Parent, removal.Device.Type, removal.Reason)),
                    .. _creations.Concat(placed).OrderBy(creation => creation.Device.Parent, StringComparer.Ordinal)
                        .Select(creation => new ReconcileAction("create", creation.Device.Uuid, creation.Device.Parent, creation.Device.Type, creation.Reason)),
                ],
                _drift, [])
            {
                Owned = record,
                OwnedChanged = OwnedDevices.ToJson(record) != OwnedDevices.ToJson(_recorded),
                Removals = [.. _removals.Select(removal => (removal.Device, removal.Owned))],
                Creations = [.. _creations.Concat(placed).Select(creation => creation.Device).OrderBy(device => device.Parent, StringComparer.Ordinal)],
                Enabling = [.. _enable.Values],
            };
        }

        private bool Runs(OwnedDevice owned) =>
            _active.TryGetValue(owned.Uuid, out var running) && running.Parent == owned.Parent && running.Type == owned.Type;

        private OwnedDevice? Owned(Guid uuid) => _owned.FirstOrDefault(owned => owned.Uuid == uuid);

        // A parent that is there, or one of an NVIDIA GPU's virtual functions that enabling brings.
        private bool Reachable(string parent) => _parents.Contains(parent) || Enables(parent);

        // Whether parent is a virtual function its GPU does not have yet; if so, the GPU's functions are to be enabled.
        private bool Enables(string parent)
        {
            if (_withoutFunctions.FirstOrDefault(gpu => gpu.VirtualFunctions.Contains(parent)) is not { } gpu)
            {
                return false;
            }
            _enable.TryAdd(gpu.Function, gpu);
            return true;
        }

        private void Devices()
        {
            foreach (var declared in _declaration.Devices)
            {
                var mine = Owned(declared.Uuid);
                var made = new OwnedDevice(declared.Uuid, declared.Parent, declared.Type, OwnedDevices.DeviceEntry, declared.Attributes);
                if (_active.TryGetValue(declared.Uuid, out var running))
                {
                    if (running.Parent == declared.Parent && running.Type == declared.Type)
                    {
                        if (mine is not null)
                        {
                            _keep.Add(made);
                        }
                        continue;
                    }
                    if (mine is null)
                    {
                        _drift.Add(new ReconcileDrift("not-owned", declared.Uuid, running.Parent, running.Type,
                            $"{MdevUuid.Format(declared.Uuid)} is declared on {declared.Parent} as {declared.Type} but runs on {running.Parent} as {running.Type}, made by someone else: it is left alone"));
                        continue;
                    }
                    _removals.Add((running, mine, $"declared on {declared.Parent} as {declared.Type} now"));
                }
                if (!Reachable(declared.Parent))
                {
                    Absent(declared.Parent, declared.Type, 1, declared.Uuid);
                    if (mine is not null && !_removals.Any(removal => removal.Owned == mine))
                    {
                        _keep.Add(mine);
                    }
                    continue;
                }
                _creations.Add((made, "declared"));
            }
        }

        // Counts on a named parent are settled here; those on any parent are returned, to be planned together.
        private List<(DeclaredCount Count, int Missing, List<OwnedDevice> Gone)> Counts()
        {
            var anywhere = new List<(DeclaredCount, int, List<OwnedDevice>)>();
            foreach (var count in _declaration.Counts)
            {
                var mine = _owned.Where(owned => owned.Entry == count.Key).ToList();
                var running = mine.Where(Runs).ToList();
                foreach (var extra in running.Skip(count.Count))
                {
                    _removals.Add((_active[extra.Uuid], extra, $"{count.Key} is declared {count.Count} now"));
                }
                _keep.AddRange(running.Take(count.Count));
                var missing = count.Count - Math.Min(running.Count, count.Count);
                // Gone devices come back under their UUIDs, where they were.
                var gone = new Queue<OwnedDevice>(mine.Where(owned => !_active.ContainsKey(owned.Uuid)));
                if (count.Parent is { } parent)
                {
                    if (missing > 0 && !Reachable(parent))
                    {
                        Absent(parent, count.Type, missing, null);
                        _keep.AddRange(gone);
                        continue;
                    }
                    for (var i = 0; i < missing; i++)
                    {
                        var uuid = gone.TryDequeue(out var again) ? again.Uuid : Guid.NewGuid();
                        _creations.Add((new OwnedDevice(uuid, parent, count.Type, count.Key), $"{count.Key}: {count.Count} declared"));
                    }
                    continue;
                }
                foreach (var again in gone.Where(owned => _parents.Contains(owned.Parent)).Take(missing))
                {
                    _creations.Add((again, $"{count.Key}: {count.Count} declared"));
                    missing--;
                }
                if (missing > 0)
                {
                    anywhere.Add((count, missing, [.. gone.Where(owned => !_parents.Contains(owned.Parent))]));
                }
            }
            return anywhere;
        }

        // What the reconciler made for an entry that is no longer declared goes.
        private void Undeclared()
        {
            var counted = _declaration.Counts.Select(count => count.Key).ToHashSet(StringComparer.Ordinal);
            var devices = _declaration.Devices.Select(device => device.Uuid).ToHashSet();
            foreach (var owned in _owned.Where(owned => owned.Entry == OwnedDevices.DeviceEntry ? !devices.Contains(owned.Uuid) : !counted.Contains(owned.Entry)))
            {
                if (Runs(owned))
                {
                    _removals.Add((_active[owned.Uuid], owned, "no longer declared"));
                }
            }
        }

        // Plans the counts on any parent beside what is placed already and with what leaves taken away; whatever
        // does not fit (placed or planned) is drift, and makes the whole change refused.
        private List<(OwnedDevice Device, string Reason)> PlaceAnywhere(List<(DeclaredCount Count, int Missing, List<OwnedDevice> Gone)> anywhere)
        {
            // A virtual function, enabled or not, is checked as its GPU (when probed): free, and within the GPU's capacity.
            var placed = _creations.Select(creation => new PlannedDevice(creation.Device.Parent, creation.Device.Type)).ToList();
            var plan = _planner.Plan([.. anywhere.Select(entry => new DeviceRequest(entry.Count.Type, entry.Missing))], placed, [.. _removals.Select(removal => removal.Device)]);
            foreach (var misfit in plan.Unplaced)
            {
                _drift.Add(new ReconcileDrift("cannot-fit", null, null, misfit.Type, $"{misfit.Count}x {misfit.Type} cannot fit: {misfit.Reason}"));
            }
            var made = new List<(OwnedDevice, string)>();
            foreach (var device in plan.Devices.Skip(placed.Count))
            {
                // Planned on a GPU whose virtual functions are not there yet: they are enabled first, and it plans again.
                Enables(device.Parent);
                var (count, _, gone) = anywhere.First(entry => entry.Count.Type == device.Type);
                // Placed where a gone device of its own was (a parent that came back as this ran): under that UUID again.
                var again = gone.FirstOrDefault(owned => owned.Parent == device.Parent);
                if (again is not null)
                {
                    gone.Remove(again);
                }
                made.Add((again ?? new OwnedDevice(Guid.NewGuid(), device.Parent, device.Type, count.Key), $"{count.Key}: {count.Count} declared"));
            }
            return made;
        }

        private void Absent(string parent, string type, int count, Guid? uuid) =>
            _drift.Add(new ReconcileDrift("parent-absent", uuid, parent, type,
                uuid is { } declared
                    ? $"{MdevUuid.Format(declared)} ({type}) waits for parent {parent}, which is not present"
                    : $"{count}x {type} wait for parent {parent}, which is not present"));
    }
}
