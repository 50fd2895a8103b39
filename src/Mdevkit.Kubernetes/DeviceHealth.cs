using Mdevkit.Management;

namespace Mdevkit.Kubernetes;

/// <summary>
/// The health of the prepared devices, for <c>DRAResourceHealth</c>: checked from the checkpoint and the host whenever
/// a claim was prepared or unprepared or the host is said to have changed (<see cref="HostChanged"/>), and every
/// <see cref="CheckPeriod"/> besides, which also catches a change no one reported.
/// </summary>
public sealed partial class DeviceHealth(PreparedClaims prepared, ILogger<DeviceHealth> logger)
{
    /// <summary>How often the devices are checked without being told of a change.</summary>
    public static readonly TimeSpan CheckPeriod = TimeSpan.FromSeconds(10);

    /// <summary>How long the kubelet waits for the next report before it takes a device's health as unknown: three periods.</summary>
    public static readonly TimeSpan Timeout = 3 * CheckPeriod;

    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Has every watcher check now: a claim was prepared or unprepared, or the host changed (a parent or device came or
    /// went, as a uevent tells).
    /// </summary>
    public void HostChanged()
    {
        TaskCompletionSource told;
        lock (_lock)
        {
            told = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        told.SetResult();
    }

    /// <summary>Completes at the next <see cref="HostChanged"/>; taken before a check, so a change during it is not missed.</summary>
    public Task NextChange()
    {
        lock (_lock)
        {
            return _changed.Task;
        }
    }

    /// <summary>The prepared devices' conditions now; null when they cannot be read this time (the reason is logged).</summary>
    public IReadOnlyList<DeviceCondition>? Check()
    {
        try
        {
            return prepared.Conditions();
        }
        catch (Exception e) when (e is ClaimException or MdevctlException or IOException or UnauthorizedAccessException)
        {
            LogCheckFailed(logger, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot check the prepared devices' health: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}
