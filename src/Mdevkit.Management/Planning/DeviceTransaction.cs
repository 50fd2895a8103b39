using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>
/// Several mdevctl operations as one: each step that succeeds leaves its inverse behind, and when a later
/// step fails the inverses run newest first (the kernel's goto-unwind), so the host ends as it began.
/// </summary>
/// <remarks>
/// It holds the root's lock throughout and writes each step to a journal (<see cref="TransactionJournal"/>) before
/// taking it, so a process killed halfway leaves a record: the next transaction on the root, or
/// <see cref="Recover"/>, rolls the leftovers back. Rolling back, not finishing, because the steps were only ever
/// wanted all together, and whatever asked for them is gone and cannot be told they were finished.
/// </remarks>
public sealed class DeviceTransaction
{
    private const string JournalSource = "the transaction journal";

    private readonly DeviceManager _manager;
    private readonly MdevctlEnvironment _environment;
    private readonly TransactionJournal? _journal;
    private readonly Stack<(string What, Action Undo)> _done = new();

    private DeviceTransaction(DeviceManager manager, MdevctlEnvironment environment, TransactionJournal? journal)
    {
        _manager = manager;
        _environment = environment;
        _journal = journal;
    }

    /// <summary>Runs <paramref name="body"/> under the root's lock; if it throws, undoes what it did and rethrows.</summary>
    /// <param name="manager">Carries out each step.</param>
    /// <param name="environment">The root; an undo step that fails is told to its warnings (the others still run).</param>
    /// <param name="body">The steps.</param>
    public static T Run<T>(DeviceManager manager, MdevctlEnvironment environment, Func<DeviceTransaction, T> body)
    {
        using var rootLock = RootLock.Acquire(environment);
        RollBackLeftovers(manager, environment, rootLock);
        // A callout script's mdevkit works inside its caller's transaction, whose journal this is.
        using var journal = rootLock.IsBorrowed ? null : TransactionJournal.Begin(environment);
        var transaction = new DeviceTransaction(manager, environment, journal);
        try
        {
            return body(transaction);
        }
        catch
        {
            transaction.Rollback();
            throw;
        }
    }

    /// <summary>
    /// Rolls back what a transaction killed halfway left (its journal's steps that were taken, newest first); nothing
    /// when none was. Returns what was undone, in words.
    /// </summary>
    public static IReadOnlyList<string> Recover(DeviceManager manager, MdevctlEnvironment environment)
    {
        using var rootLock = RootLock.Acquire(environment);
        return RollBackLeftovers(manager, environment, rootLock);
    }

    /// <summary>What <see cref="Recover"/> would undo if each journaled step was taken; changes nothing.</summary>
    public static IReadOnlyList<string> PendingRecovery(MdevctlEnvironment environment) =>
        TransactionJournal.Read(environment) is { } steps ? [.. steps.AsEnumerable().Reverse().Select(step => step.UndoText)] : [];

    /// <summary>Defines a device under a new UUID.</summary>
    public Guid Define(string parent, string type, bool autoStart)
    {
        var uuid = Guid.NewGuid();
        _journal?.Append(new JournalStep("define", uuid, parent));
        _manager.Define(new DefineRequest(uuid, parent, type, autoStart));
        _done.Push(($"undefine {MdevUuid.Format(uuid)}", () => _manager.Undefine(uuid, parent)));
        return uuid;
    }

    /// <summary>Starts a defined device.</summary>
    public void Start(Guid uuid, string? parent = null) => Start(new StartRequest(uuid, parent, null));

    /// <summary>Starts a transient device (no definition) with a configuration's type and attributes.</summary>
    public void Start(Guid uuid, string parent, DeviceConfig config) =>
        Start(new StartRequest(uuid, parent, null, (JournalSource, config.ToCompactJson())));

    /// <summary>Starts a transient device (no definition) under a new UUID.</summary>
    public Guid StartTransient(string parent, string type)
    {
        // Chosen here rather than by the start, so the journal names the device before it exists.
        var uuid = Guid.NewGuid();
        StartTransient(uuid, parent, type);
        return uuid;
    }

    /// <summary>Starts a transient device (no definition) under the given UUID.</summary>
    public void StartTransient(Guid uuid, string parent, string type) => Start(new StartRequest(uuid, parent, type));

    /// <summary>Enables all of a GPU's virtual functions; undoing disables them again.</summary>
    public void EnableVirtualFunctions(KernelDevices kernel, SriovGpu gpu)
    {
        var step = new JournalStep("enable-vfs", Parent: gpu.Function);
        _journal?.Append(step);
        try
        {
            kernel.EnableVirtualFunctions(gpu);
        }
        catch (SysfsException e)
        {
            throw MdevctlException.Wrap($"Unable to enable the virtual functions of {gpu.Function}", e);
        }
        _done.Push((step.UndoText, () => kernel.DisableVirtualFunctions(gpu.Function)));
    }

    /// <summary>Stops a running device; undoing starts it again where it ran, as it ran (with <paramref name="config"/>'s attributes when given).</summary>
    public void Stop(ActiveDevice device, DeviceConfig? config = null)
    {
        var step = new JournalStep("stop", device.Uuid, device.Parent, device.Type, config?.ToCompactJson());
        _journal?.Append(step);
        _manager.Stop(device.Uuid);
        _done.Push((step.UndoText, () => Restart(_manager, step)));
    }

    /// <summary>Replaces (or, with null, removes) one of mdevkit's own files below the root; undoing puts the old one back.</summary>
    /// <param name="relativePath">The file, relative to the root.</param>
    /// <param name="text">Its new text.</param>
    public void ReplaceFile(string relativePath, string? text)
    {
        var path = _environment.Sysfs.PathOf(relativePath);
        var step = new JournalStep("file", Path: relativePath, Previous: File.Exists(path) ? File.ReadAllText(path) : null);
        _journal?.Append(step);
        Write(path, text);
        _done.Push((step.UndoText, () => Write(path, step.Previous)));
    }

    private void Start(StartRequest request)
    {
        _journal?.Append(new JournalStep("start", request.Uuid, request.Parent));
        _manager.Start(request);
        _done.Push(($"stop {MdevUuid.Format(request.Uuid!.Value)}", () => _manager.Stop(request.Uuid.Value)));
    }

    private void Rollback()
    {
        while (_done.TryPop(out var step))
        {
            try
            {
                step.Undo();
            }
            catch (Exception e) when (e is MdevctlException or IOException)
            {
                _environment.Warn($"Rollback step '{step.What}' failed: {e.Message}");
            }
        }
    }

    // Under the lock, a journal is a killed holder's: each step it took is undone, newest first. A step may have been
    // journaled and never taken, so each undo first looks whether there is anything to undo.
    private static List<string> RollBackLeftovers(DeviceManager manager, MdevctlEnvironment environment, RootLock rootLock)
    {
        if (rootLock.IsBorrowed || TransactionJournal.Read(environment) is not { } steps)
        {
            return [];
        }
        var undone = new List<string>();
        foreach (var step in steps.AsEnumerable().Reverse())
        {
            try
            {
                if (UndoIfTaken(manager, environment, step))
                {
                    undone.Add(step.UndoText);
                }
            }
            catch (Exception e) when (e is MdevctlException or IOException or UnauthorizedAccessException)
            {
                environment.Warn($"Rolling back a killed transaction: '{step.UndoText}' failed: {e.Message}");
            }
        }
        foreach (var what in undone)
        {
            environment.Warn($"Rolled back a killed transaction: {what}");
        }
        TransactionJournal.Delete(environment);
        return undone;
    }

    private static bool UndoIfTaken(DeviceManager manager, MdevctlEnvironment environment, JournalStep step)
    {
        switch (step.Step)
        {
            case "define" when manager.IsDefined(step.Parent!, step.Uuid!.Value):
                manager.Undefine(step.Uuid.Value, step.Parent);
                return true;
            case "start" when manager.TryGetActive(step.Uuid!.Value, out var running) && (step.Parent is null || running.Parent == step.Parent):
                manager.Stop(step.Uuid.Value);
                return true;
            case "stop" when !manager.TryGetActive(step.Uuid!.Value, out _):
                Restart(manager, step);
                return true;
            // Enabled only on a GPU that had none, and its devices' steps are undone before this one.
            case "enable-vfs" when environment.Sysfs.GetSriovLayout(step.Parent!) is { NumVfs: > 0 }:
                environment.Sysfs.SetNumVfs(step.Parent!, 0);
                return true;
            case "file" when Read(environment.Sysfs.PathOf(step.Path!)) != step.Previous:
                Write(environment.Sysfs.PathOf(step.Path!), step.Previous);
                return true;
            default:
                return false;
        }
    }

    private static void Restart(DeviceManager manager, JournalStep step) =>
        manager.Start(step.Config is null
            ? new StartRequest(step.Uuid, step.Parent, step.Type)
            : new StartRequest(step.Uuid, step.Parent, null, (JournalSource, step.Config)));

    private static string? Read(string path) => File.Exists(path) ? File.ReadAllText(path) : null;

    private static void Write(string path, string? text)
    {
        if (text is null)
        {
            File.Delete(path);
        }
        else
        {
            AtomicFile.Write(path, text);
        }
    }
}
