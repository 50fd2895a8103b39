using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>
/// Several mdevctl operations as one: each step that succeeds leaves its inverse behind, and when a later
/// step fails the inverses run newest first (the kernel's goto-unwind), so the host ends as it began.
/// </summary>
public sealed class DeviceTransaction
{
    private readonly DeviceManager _manager;
    private readonly Action<string> _warn;
    private readonly Stack<(string What, Action Undo)> _done = new();

    private DeviceTransaction(DeviceManager manager, Action<string> warn)
    {
        _manager = manager;
        _warn = warn;
    }

    /// <summary>Runs <paramref name="body"/>; if it throws, undoes what it did and rethrows.</summary>
    /// <param name="manager">Carries out each step.</param>
    /// <param name="warn">Told about an undo step that fails (the others still run).</param>
    /// <param name="body">The steps.</param>
    public static T Run<T>(DeviceManager manager, Action<string> warn, Func<DeviceTransaction, T> body)
    {
        var transaction = new DeviceTransaction(manager, warn);
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

    /// <summary>Defines a device under a new UUID.</summary>
    public Guid Define(string parent, string type, bool autoStart)
    {
        var uuid = _manager.Define(new DefineRequest(null, parent, type, autoStart));
        _done.Push(($"undefine {MdevUuid.Format(uuid)}", () => _manager.Undefine(uuid, parent)));
        return uuid;
    }

    /// <summary>Starts a defined device.</summary>
    public void Start(Guid uuid, string? parent = null)
    {
        _manager.Start(new StartRequest(uuid, parent, null));
        _done.Push(($"stop {MdevUuid.Format(uuid)}", () => _manager.Stop(uuid)));
    }

    /// <summary>Enables all of a GPU's virtual functions; undoing disables them again.</summary>
    public void EnableVirtualFunctions(KernelDevices kernel, SriovGpu gpu)
    {
        try
        {
            kernel.EnableVirtualFunctions(gpu);
        }
        catch (SysfsException e)
        {
            throw MdevctlException.Wrap($"Unable to enable the virtual functions of {gpu.Function}", e);
        }
        _done.Push(($"disable the virtual functions of {gpu.Function}", () => kernel.DisableVirtualFunctions(gpu.Function)));
    }

    /// <summary>Starts a transient device (no definition) under a new UUID.</summary>
    public Guid StartTransient(string parent, string type)
    {
        var uuid = _manager.Start(new StartRequest(null, parent, type));
        _done.Push(($"stop {MdevUuid.Format(uuid)}", () => _manager.Stop(uuid)));
        return uuid;
    }

    /// <summary>Stops a running device; undoing starts it again where it ran, as it ran.</summary>
    public void Stop(ActiveDevice device)
    {
        _manager.Stop(device.Uuid);
        _done.Push(($"restart {MdevUuid.Format(device.Uuid)}", () => _manager.Start(new StartRequest(device.Uuid, device.Parent, device.Type))));
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
                _warn($"Rollback step '{step.What}' failed: {e.Message}");
            }
        }
    }
}
