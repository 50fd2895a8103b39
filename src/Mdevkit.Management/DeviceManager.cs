using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>What <c>define</c> is asked to do.</summary>
/// <param name="Uuid">The device's UUID; a new one when null.</param>
/// <param name="Parent">The parent; taken from the running device when null.</param>
/// <param name="Type">The type; taken from the running device when null.</param>
/// <param name="AutoStart">Whether the device starts when its parent registers.</param>
/// <param name="Json">A configuration to define from (the text of a <c>--jsonfile</c>), with its path for messages.</param>
/// <param name="Force">Go on when the pre callout fails.</param>
public sealed record DefineRequest(Guid? Uuid, string? Parent, string? Type, bool AutoStart, (string Path, string Text)? Json = null, bool Force = false);

/// <summary>What <c>start</c> is asked to do.</summary>
/// <param name="Uuid">A defined device, or the UUID of a new transient one; a new UUID when null.</param>
/// <param name="Parent">The parent, for a transient device or to pick one definition.</param>
/// <param name="Type">The type of a transient device.</param>
/// <param name="Json">A configuration to start a transient device from.</param>
/// <param name="Force">Go on when the pre callout fails.</param>
public sealed record StartRequest(Guid? Uuid, string? Parent, string? Type, (string Path, string Text)? Json = null, bool Force = false);

/// <summary>What <c>modify</c> is asked to do to a stored definition, or (with <paramref name="Live"/>) to a running device.</summary>
/// <param name="Uuid">The defined device.</param>
/// <param name="Parent">Which parent's definition, when there are several.</param>
/// <param name="Type">A new type.</param>
/// <param name="AddAttribute">An attribute to insert, with its value.</param>
/// <param name="DeleteAttribute">Whether to delete an attribute.</param>
/// <param name="Index">Where to insert, or which to delete; the end when null.</param>
/// <param name="Value">The value for <paramref name="AddAttribute"/>.</param>
/// <param name="Auto">Set autostart.</param>
/// <param name="Manual">Clear autostart.</param>
/// <param name="Json">A configuration that replaces the definition's type, start and attributes.</param>
/// <param name="Live">Apply <paramref name="Json"/> to the running device through a versioned callout script.</param>
/// <param name="Defined">With <paramref name="Live"/>, store it in the definition too.</param>
/// <param name="Force">Go on when the pre callout fails.</param>
public sealed record ModifyRequest(
    Guid Uuid,
    string? Parent = null,
    string? Type = null,
    string? AddAttribute = null,
    bool DeleteAttribute = false,
    uint? Index = null,
    string? Value = null,
    bool Auto = false,
    bool Manual = false,
    (string Path, string Text)? Json = null,
    bool Live = false,
    bool Defined = false,
    bool Force = false);

/// <summary>
/// mdevctl's operations on devices and definitions, with its checks and messages: define, undefine,
/// modify, start (rolling the device back when an attribute write fails), stop, and the autostart of a
/// parent's devices. What changes definitions runs under the root's lock (<see cref="RootLock"/>); start, stop
/// and the autostart change only what the kernel runs, which the kernel serializes, and take no lock: udev and
/// callout scripts run them at any time (a vGPU of NVIDIA's vendor-specific VFIO takes it for a moment, to record its
/// UUID with it: <see cref="KernelDevices"/>).
/// </summary>
/// <param name="environment">The root.</param>
/// <param name="definitions">Its definitions.</param>
/// <param name="callouts">Its callout scripts.</param>
/// <param name="kernel">Where devices live; mdev alone when null.</param>
public sealed class DeviceManager(MdevctlEnvironment environment, DefinitionStore definitions, Callouts callouts, KernelDevices? kernel = null)
{
    private readonly KernelDevices _kernel = kernel ?? new KernelDevices(environment, vendorVfio: false);

    private SysfsRoot Sysfs => environment.Sysfs;

    /// <summary>A running device by its UUID (mdev's, or a vGPU of NVIDIA's vendor-specific VFIO).</summary>
    public bool TryGetActive(Guid uuid, out ActiveDevice device) => _kernel.TryGetActive(uuid, out device);

    /// <summary>Whether a definition of <paramref name="uuid"/> exists on <paramref name="parent"/>.</summary>
    public bool IsDefined(string parent, Guid uuid) => definitions.Exists(parent, uuid);

    /// <summary>Defines a device; returns its UUID.</summary>
    /// <exception cref="MdevctlException">With mdevctl's message.</exception>
    public Guid Define(DefineRequest request)
    {
        // From the check that no definition exists to its write: two defines of one UUID, one wins.
        using var rootLock = RootLock.Acquire(environment);
        var uuid = request.Uuid ?? Guid.NewGuid();
        Definition definition;
        if (request.Json is { } json)
        {
            if (request.Type is not null)
            {
                throw new MdevctlException($"Device type cannot be specified separately from \"{json.Path}\"");
            }
            var parent = request.Parent ?? throw new MdevctlException($"Parent device required to define device via \"{json.Path}\"");
            RequireParentName(parent);
            if (definitions.Exists(parent, uuid))
            {
                throw new MdevctlException($"Cowardly refusing to overwrite existing config for {parent}/{MdevUuid.Format(uuid)}");
            }
            definition = new Definition(parent, uuid, RequireTypeName(DeviceConfig.Parse(json.Text)));
        }
        else
        {
            ActiveDevice? running = null;
            if (request.Uuid is not null && _kernel.TryGetActive(uuid, out var device))
            {
                running = device;
            }
            if (request.Uuid is not null && request.Parent is null && (running is null || request.Type is not null))
            {
                throw new MdevctlException("No parent specified");
            }
            var parent = request.Parent ?? running?.Parent ?? throw new MdevctlException("No parent specified");
            var type = request.Type ?? running?.Type ?? throw new MdevctlException("No type specified");
            RequireParentName(parent);
            if (definitions.Exists(parent, uuid))
            {
                throw new MdevctlException($"Device {MdevUuid.Format(uuid)} on {parent} already defined");
            }
            definition = new Definition(parent, uuid, new DeviceConfig(RequireTypeName(type), request.AutoStart, []));
        }
        callouts.Invoke(CalloutAction.Define, definition, request.Force, () =>
        {
            // A running device's attributes are only known to its callout script; the definition keeps them.
            if (_kernel.TryGetActive(uuid, out _) && callouts.GetAttributes(definition) is { } attributes)
            {
                definition = definition with { Config = definition.Config with { Attributes = [.. definition.Config.Attributes, .. attributes] } };
            }
            Save(definition);
        });
        return uuid;
    }

    /// <summary>Removes every definition of a UUID (on one parent when given); running devices stay.</summary>
    /// <exception cref="MdevctlException">No definition matches, or one could not be removed (the others still are).</exception>
    public void Undefine(Guid uuid, string? parent, bool force = false)
    {
        using var rootLock = RootLock.Acquire(environment);
        var matches = LoadForUndefine(parent, uuid, force, out var removedUnreadable);
        if (matches.Count == 0 && !removedUnreadable)
        {
            throw new MdevctlException("No devices match the specified uuid");
        }
        var failed = false;
        foreach (var definition in matches)
        {
            try
            {
                callouts.Invoke(CalloutAction.Undefine, definition, force, () => definitions.Delete(definition.Parent, definition.Uuid));
            }
            catch (Exception e) when (e is MdevctlException or IOException or UnauthorizedAccessException)
            {
                failed = true;
                environment.Warn($"Undefine of {MdevUuid.Format(uuid)} on parent {definition.Parent} failed with error: {e.Message}");
            }
        }
        if (failed)
        {
            throw new MdevctlException("Undefine failed");
        }
    }

    // The definitions to undefine. One that cannot be read cannot be handed to its callout scripts: it is
    // refused with its path, and --force removes it without them, so that a broken file never blocks its device.
    private IReadOnlyList<Definition> LoadForUndefine(string? parent, Guid uuid, bool force, out bool removedUnreadable)
    {
        removedUnreadable = false;
        while (true)
        {
            try
            {
                return definitions.Load(parent, uuid);
            }
            catch (ConfigException e) when (force && e.Path is not null)
            {
                environment.Warn($"Removing unreadable definition {e.Message}; callout scripts not run");
                definitions.Delete(Path.GetFileName(Path.GetDirectoryName(e.Path)!), uuid);
                removedUnreadable = true;
            }
            catch (ConfigException e)
            {
                throw new MdevctlException($"{e.Message} (undefine --force removes it without callout scripts)");
            }
        }
    }

    /// <summary>Changes a stored definition.</summary>
    /// <exception cref="MdevctlException">With mdevctl's message.</exception>
    public void Modify(ModifyRequest request)
    {
        // The definition read is the one changed: a modify made meanwhile would be lost.
        using var rootLock = RootLock.Acquire(environment);
        if (request.Live)
        {
            ModifyLive(request);
            return;
        }
        Definition definition;
        if (request.Json is { } json)
        {
            var parent = request.Parent ?? throw new MdevctlException("Parent device required to modify device via json file");
            RequireParentName(parent);
            definition = new Definition(parent, request.Uuid, RequireTypeName(DeviceConfig.Parse(json.Text)));
        }
        else
        {
            definition = SingleDefinition(request.Uuid, request.Parent);
            if (request.Auto && request.Manual)
            {
                throw new MdevctlException("'auto' and 'manual' are mutually exclusive");
            }
            var config = definition.Config with
            {
                MdevType = request.Type is null ? definition.Config.MdevType : RequireTypeName(request.Type),
                AutoStart = request.Auto || (!request.Manual && definition.Config.AutoStart),
            };
            definition = definition with { Config = config };
        }
        definition = definition with { Config = definition.Config with { Attributes = EditAttributes(definition, request) } };
        callouts.Invoke(CalloutAction.Modify, definition, request.Force, () => Save(definition));
    }

    private void ModifyLive(ModifyRequest request)
    {
        if (request.Type is not null)
        {
            throw new MdevctlException("'type' cannot be changed on active mdev");
        }
        if (request.Auto || request.Manual)
        {
            throw new MdevctlException($"'{(request.Auto ? "auto" : "manual")}' cannot be changed on active mdev");
        }
        if (!_kernel.TryGetActive(request.Uuid, out var running) || (request.Parent is not null && running.Parent != request.Parent))
        {
            throw new MdevctlException(request.Parent is null
                ? $"Mediated device {MdevUuid.Format(request.Uuid)} is not active"
                : $"Mediated device {request.Parent}/{MdevUuid.Format(request.Uuid)} is not active");
        }
        var json = request.Json ?? throw new MdevctlException("'live' option must be used with 'jsonfile' option");
        var device = new Definition(running.Parent, request.Uuid, DeviceConfig.Parse(json.Text));
        if (device.Config.MdevType != running.Type)
        {
            throw new MdevctlException("'type' cannot be changed on active mdev");
        }
        if (!request.Defined)
        {
            callouts.ModifyLive(device);
            return;
        }
        if (SingleDefinition(request.Uuid, running.Parent).Config.MdevType != running.Type)
        {
            throw new MdevctlException("'type' of active and defined mdev does not match");
        }
        callouts.ModifyLive(device);
        callouts.Invoke(CalloutAction.Modify, device, request.Force, () => Save(device));
    }

    /// <summary>Starts a defined device or a transient one; returns its UUID.</summary>
    /// <exception cref="MdevctlException">With mdevctl's message; a device whose attributes could not be written is removed again.</exception>
    public Guid Start(StartRequest request)
    {
        var uuid = request.Uuid ?? Guid.NewGuid();
        if (request.Parent is not null)
        {
            RequireParentName(request.Parent);
        }
        Definition device;
        if (request.Json is { } json)
        {
            var config = RequireTypeName(DeviceConfig.Parse(json.Text));
            if (request.Type is not null)
            {
                throw new MdevctlException("Device type cannot be specified separately from json file");
            }
            var parent = request.Parent ?? throw new MdevctlException("Parent device required to start device via json file");
            device = new Definition(parent, uuid, config);
        }
        else
        {
            var defined = request.Uuid is null ? [] : definitions.Load(request.Parent, uuid);
            if (defined.Count > 1)
            {
                throw new MdevctlException($"Multiple definitions found for device {MdevUuid.Format(uuid)}. Please specify a parent.");
            }
            if (defined.Count == 1)
            {
                device = defined[0];
                if (request.Type is not null && request.Type != device.Config.MdevType)
                {
                    throw new MdevctlException($"Device {MdevUuid.Format(uuid)} already exists on parent {device.Parent} with type {device.Config.MdevType}");
                }
            }
            else
            {
                if (request.Type is not null && request.Parent is null)
                {
                    throw new MdevctlException("can't provide type without parent");
                }
                if (request.Type is null || request.Parent is null)
                {
                    throw new MdevctlException("Device is insufficiently specified");
                }
                device = new Definition(request.Parent, uuid, new DeviceConfig(RequireTypeName(request.Type), false, []));
            }
        }
        callouts.Invoke(CalloutAction.Start, device, request.Force, () => Create(device));
        return uuid;
    }

    /// <summary>Stops (removes) a running device.</summary>
    /// <exception cref="MdevctlException">The device is not running or the kernel refused.</exception>
    public void Stop(Guid uuid, bool force = false)
    {
        if (!_kernel.TryGetActive(uuid, out var running))
        {
            throw new MdevctlException($"Error removing device {MdevUuid.Format(uuid)}", MdevctlException.OsError(Errno.ENOENT));
        }
        var device = new Definition(running.Parent, uuid, new DeviceConfig(running.Type, false, []));
        callouts.Invoke(CalloutAction.Stop, device, force, () => Remove(uuid));
    }

    /// <summary>
    /// Starts every autostart definition of a parent, as udev does when the parent registers. A device
    /// that fails is reported through the environment's warnings and the others still start; a device that
    /// already runs as defined is left alone, so a second event for the same parent starts nothing twice.
    /// </summary>
    public void StartParentDevices(string parent)
    {
        RequireParentName(parent);
        foreach (var definition in definitions.Load(parent, null).Where(definition => definition.Config.AutoStart))
        {
            if (_kernel.TryGetActive(definition.Uuid, out var running)
                && running.Parent == definition.Parent && running.Type == definition.Config.MdevType)
            {
                continue;
            }
            try
            {
                callouts.Invoke(CalloutAction.Start, definition, force: false, () => Create(definition));
            }
            catch (MdevctlException e)
            {
                // mdevctl logs the error and each of its causes as a warning of its own.
                foreach (var message in (string[])[e.Message, .. e.Causes])
                {
                    environment.Warn(message);
                }
            }
        }
    }

    private void Create(Definition device)
    {
        var (parent, uuid, config) = device;
        if (_kernel.TryGetActive(uuid, out var existing))
        {
            throw new MdevctlException(
                existing.Parent != parent ? "Device exists under different parent"
                : existing.Type != config.MdevType ? "Device exists with different type"
                : "Device already exists");
        }
        if (!_kernel.ParentExists(parent))
        {
            EnableVirtualFunctionsFor(parent);
        }
        if (!_kernel.ParentExists(parent))
        {
            var similar = SysfsReads.Read(_kernel.ParentNames).FirstOrDefault(name => string.Equals(name, parent, StringComparison.OrdinalIgnoreCase));
            throw new MdevctlException(similar is null
                ? $"Unable to find parent device '{parent}'"
                : $"Unable to find parent device '{parent}'. Did you mean '{similar}'?");
        }
        var types = _kernel.OffersTypes(parent)
            ? SysfsReads.Read(() => _kernel.Types(parent))
            : throw new MdevctlException($"Parent {parent} is not currently registered for mdev support");
        var type = types.FirstOrDefault(candidate => candidate.Id == config.MdevType)
            ?? throw new MdevctlException($"Parent {parent} does not support mdev type {config.MdevType}");
        if (type.AvailableInstances == 0)
        {
            throw new MdevctlException($"No available instances of {config.MdevType} on {parent}");
        }
        if (config.Attributes.Count > 0 && _kernel.IsVendorSlot(parent))
        {
            // The vendor-specific interface has no device directory to write them to; its vGPU is the function itself.
            throw new MdevctlException($"Attributes cannot be set on {parent}: a vGPU of NVIDIA's vendor-specific VFIO has none");
        }
        try
        {
            _kernel.Create(parent, config.MdevType, uuid);
        }
        catch (SysfsException e)
        {
            throw MdevctlException.Wrap($"Failed to create mdev {MdevUuid.Format(uuid)}, type {config.MdevType} on {parent}", e);
        }
        foreach (var (name, value) in config.Attributes)
        {
            try
            {
                WriteAttribute(uuid, name, value);
            }
            catch
            {
                // A half-configured device is worse than none: take it away again.
                Remove(uuid);
                throw;
            }
        }
    }

    // A parent that is a virtual function not enabled yet (after a reboot, say) comes with its GPU's virtual functions.
    private void EnableVirtualFunctionsFor(string parent)
    {
        try
        {
            _kernel.EnableVirtualFunctionsFor(parent);
        }
        catch (SysfsException e)
        {
            throw MdevctlException.Wrap($"Unable to enable the virtual functions for parent device '{parent}'", e);
        }
    }

    private void WriteAttribute(Guid uuid, string name, string value)
    {
        if (!SysfsRoot.IsAttributeName(name))
        {
            throw new MdevctlException($"Invalid attribute '{name}'");
        }
        try
        {
            Sysfs.WriteDeviceAttribute(uuid, name, value);
        }
        catch (SysfsException e) when (e.Errno == Errno.ENOENT)
        {
            // Only opening gives ENOENT: the device has no such attribute (sysfs creates none).
            throw new MdevctlException($"Invalid attribute '{name}'");
        }
        catch (SysfsException e) when (e.Errno == Errno.ELOOP)
        {
            // driver/, mdev_type/, iommu_group/ and subsystem/ lead to other devices' and types' files (remove, create).
            throw new MdevctlException(
                $"Invalid attribute '{name}': it is reached through a symbolic link, and an attribute is a file of the device's own directory");
        }
        catch (SysfsException e)
        {
            throw MdevctlException.Wrap($"Failed to write {value} to attribute {name}", e);
        }
    }

    private void Remove(Guid uuid)
    {
        try
        {
            _kernel.Remove(uuid);
        }
        catch (SysfsException e)
        {
            throw MdevctlException.Wrap($"Error removing device {MdevUuid.Format(uuid)}", e);
        }
    }

    private static List<KeyValuePair<string, string>> EditAttributes(Definition definition, ModifyRequest request)
    {
        var attributes = definition.Config.Attributes.ToList();
        // mdevctl's index is a u32: compared as such, not wrapped into a negative int.
        long? index = request.Index;
        if (request.AddAttribute is { } name)
        {
            var value = request.Value ?? throw new MdevctlException("No attribute value provided");
            if (index > attributes.Count)
            {
                throw InvalidIndex(definition, index.Value);
            }
            attributes.Insert((int)(index ?? attributes.Count), new(name, value));
        }
        else if (request.DeleteAttribute)
        {
            if (index >= attributes.Count)
            {
                throw InvalidIndex(definition, index.Value);
            }
            if (attributes.Count > 0)
            {
                attributes.RemoveAt((int)(index ?? attributes.Count - 1));
            }
        }
        return attributes;
    }

    private static MdevctlException InvalidIndex(Definition definition, long index)
    {
        var hint = definition.Config.Attributes.Count == 0
            ? $"Device {MdevUuid.Format(definition.Uuid)} has no attributes"
            : MdevctlFormat.ListText([new ListedDevice(definition.Uuid, definition.Parent, definition.Config, false, true)], definedListing: true, verbose: true)
                .Split('\n', 2)[1];
        return new MdevctlException($"Attribute index {index} is invalid\n{hint}");
    }

    private Definition SingleDefinition(Guid uuid, string? parent)
    {
        var matches = definitions.Load(parent, uuid);
        return matches.Count switch
        {
            0 => throw new MdevctlException(parent is null
                ? $"Mediated device {MdevUuid.Format(uuid)} is not defined"
                : $"{parent}/{MdevUuid.Format(uuid)} is not defined"),
            1 => matches[0],
            _ => throw new MdevctlException($"Multiple definitions found for {MdevUuid.Format(uuid)}, specify a parent"),
        };
    }

    private void Save(Definition definition)
    {
        try
        {
            definitions.Save(definition);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MdevctlException.Wrap($"Failed to write config for device {MdevUuid.Format(definition.Uuid)}", e);
        }
    }

    // Parent names become directory names under etc/mdevctl.d; one that could leave it is refused before anything is written.
    private static void RequireParentName(string parent)
    {
        if (DeviceNames.Problem(parent) is { } problem)
        {
            throw new MdevctlException($"Invalid parent device name '{DeviceNames.Printable(parent)}': {problem}");
        }
        if (!SysfsRoot.IsPathComponent(parent) || parent == MdevctlEnvironment.ScriptsDirectoryName)
        {
            throw new MdevctlException($"Invalid parent device name '{parent}'");
        }
    }

    // A type given on the command line or in a JSON file; one read from a stored definition is taken as it is.
    private static string RequireTypeName(string type) => DeviceNames.Problem(type) is { } problem
        ? throw new MdevctlException($"Invalid mdev type '{DeviceNames.Printable(type)}': {problem}")
        : type;

    private static DeviceConfig RequireTypeName(DeviceConfig config) => config with { MdevType = RequireTypeName(config.MdevType) };
}
