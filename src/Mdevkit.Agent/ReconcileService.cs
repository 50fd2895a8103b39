using System.Threading.Channels;
using Mdevkit.Management;
using Mdevkit.Management.Reconcile;

namespace Mdevkit.Agent;

/// <summary>The reconciler's state, as <c>GET /v1/reconcile</c> shows it.</summary>
/// <param name="State">
/// <c>starting</c>, <c>no-declaration</c> (no <c>etc/mdevkit/host.json</c>: nothing is reconciled), <c>invalid</c>
/// (the declaration cannot be read), <c>converged</c>, <c>drifted</c> (done what it can; <see cref="Drift"/> says what
/// is left), <c>refused</c> (the change cannot fit: nothing was done) or <c>failed</c> (a step failed: all were undone).
/// </param>
/// <param name="LastRun">When the last run ended.</param>
/// <param name="Error">Why the last run was refused or failed.</param>
/// <param name="Actions">What the last run did (or, refused, would have done).</param>
/// <param name="Drift">Where the host still differs from the declaration.</param>
/// <param name="RolledBack">What was undone of the last transaction killed halfway that the agent found, if any.</param>
/// <param name="Failures">Runs refused or failed in a row.</param>
/// <param name="NextRetry">When the next try is, after failures.</param>
public sealed record ReconcileView(
    string State, DateTimeOffset? LastRun, string? Error, IReadOnlyList<ReconcileAction> Actions, IReadOnlyList<ReconcileDrift> Drift,
    IReadOnlyList<string> RolledBack, int Failures, DateTimeOffset? NextRetry);

/// <summary>
/// Keeps the host as declared: runs the reconciler at start, when the declaration changes (inotify, <c>SIGHUP</c>),
/// when a parent registers or a device goes (a reboot, a hotplug, a reset), and when asked. Runs that are refused or
/// fail are retried with exponential backoff; events meanwhile wait for the retry, a new declaration does not.
/// </summary>
internal sealed class ReconcileService : BackgroundService
{
    private static readonly TimeSpan s_firstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_lastRetry = TimeSpan.FromMinutes(5);

    private readonly ManagedHost _host;
    private readonly EventHub _hub;
    private readonly AgentMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ReconcileService> _logger;
    // true: the declaration changed or someone asked, which does not wait for a retry.
    private readonly Channel<bool> _triggers = Channel.CreateUnbounded<bool>();
    private readonly Lock _lock = new();
    private List<TaskCompletionSource<ReconcileView>> _waiting = [];
    private ReconcileView _view = new("starting", null, null, [], [], [], 0, null);
    private FileSystemWatcher? _watcher;

    public ReconcileService(ManagedHost host, EventHub hub, AgentMetrics metrics, TimeProvider time, ConfigurationReloader reload, ILogger<ReconcileService> logger)
    {
        _host = host;
        _hub = hub;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        reload.OnReload(() => Trigger(urgent: true));
        // The kernel's changes that can leave declared devices missing: a parent (re)registered, a device gone.
        hub.Observe(published =>
        {
            if (published.Type is "parent-registered" or "device-removed" or "events-lost")
            {
                Trigger(urgent: false);
            }
        });
    }

    public ReconcileView View
    {
        get
        {
            lock (_lock)
            {
                return _view;
            }
        }
    }

    /// <summary>Runs the reconciler now (whatever the backoff) and answers with the state after that run.</summary>
    public Task<ReconcileView> RunNowAsync()
    {
        var waiter = new TaskCompletionSource<ReconcileView>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiting.Add(waiter);
        }
        Trigger(urgent: true);
        return waiter.Task;
    }

    public override void Dispose()
    {
        _watcher?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WatchDeclaration();
        Trigger(urgent: true);
        while (!stoppingToken.IsCancellationRequested)
        {
            var failures = View.Failures;
            var retryAt = View.NextRetry;
            var wake = _triggers.Reader.WaitToReadAsync(stoppingToken).AsTask();
            var untilRetry = (retryAt ?? DateTimeOffset.MinValue) - _time.GetUtcNow();
            if (untilRetry > TimeSpan.Zero)
            {
                await Task.WhenAny(wake, Task.Delay(untilRetry, _time, stoppingToken));
            }
            else if (failures == 0)
            {
                await wake;
            }
            var urgent = false;
            while (_triggers.Reader.TryRead(out var trigger))
            {
                urgent |= trigger;
            }
            if (!urgent && retryAt is { } later && later > _time.GetUtcNow())
            {
                continue;
            }
            List<TaskCompletionSource<ReconcileView>> waiting;
            lock (_lock)
            {
                (waiting, _waiting) = (_waiting, []);
            }
            var view = await Task.Run(RunOnce, stoppingToken);
            foreach (var waiter in waiting)
            {
                waiter.TrySetResult(view);
            }
        }
    }

    private void Trigger(bool urgent) => _triggers.Writer.TryWrite(urgent);

    // One run: recover, reconcile, and tell the log, the events and the metrics what happened.
    private ReconcileView RunOnce()
    {
        var before = View;
        var actions = new List<ReconcileAction>();
        ReconcileView after;
        try
        {
            var recovered = _host.Reconciler.Recover();
            foreach (var undone in recovered)
            {
                Log.RolledBack(_logger, undone);
            }
            // The last recovery stays shown until another: the runs that follow it have nothing to roll back.
            var rolledBack = recovered.Count > 0 ? recovered : before.RolledBack;
            if (HostDeclaration.Load(_host.Environment) is not { } declaration)
            {
                after = new ReconcileView("no-declaration", _time.GetUtcNow(), null, [], [], rolledBack, 0, null);
            }
            else
            {
                var plan = _host.Reconciler.Apply(declaration, action =>
                {
                    actions.Add(action);
                    Log.ReconcileAction(_logger, action);
                    _metrics.ReconcileAction(action.Kind);
                    _hub.Publish("reconcile-action", action.Uuid, action.Parent, Properties(("kind", action.Kind), ("type", action.Type), ("reason", action.Reason)));
                });
                after = plan.Fits
                    ? new ReconcileView(plan.Drift.Count == 0 ? "converged" : "drifted", _time.GetUtcNow(), null, actions, plan.Drift, rolledBack, 0, null)
                    : Failed("refused", ReconcilePlan.RefusedMessage, plan.Actions, plan.Drift, rolledBack);
            }
        }
        catch (InvalidInputException e)
        {
            // A declaration that cannot be read waits for the next edit, not for a retry.
            after = new ReconcileView("invalid", _time.GetUtcNow(), e.Message, [], [], before.RolledBack, 0, null);
        }
        catch (Exception e) when (e is MdevctlException or IOException or UnauthorizedAccessException)
        {
            var message = string.Join(": ", [e.Message, .. (e as MdevctlException)?.Causes ?? []]);
            after = Failed("failed", message, actions, [new ReconcileDrift("failed", null, null, null, $"the last run failed and was undone: {message}")], before.RolledBack);
        }
        if (after.Error is { } error)
        {
            Log.ReconcileFailed(_logger, after.State, error);
        }
        foreach (var drift in after.Drift.Where(drift => !before.Drift.Contains(drift)))
        {
            Log.ReconcileDrift(_logger, drift);
            _hub.Publish("reconcile-drift", drift.Uuid, drift.Parent, Properties(("kind", drift.Kind), ("type", drift.Type), ("detail", drift.Detail)));
        }
        _metrics.ReconcileFinished(after);
        lock (_lock)
        {
            _view = after;
        }
        return after;

        ReconcileView Failed(string state, string message, IReadOnlyList<ReconcileAction> taken, IReadOnlyList<ReconcileDrift> drift, IReadOnlyList<string> rolledBack)
        {
            var failures = before.Failures + 1;
            var delay = TimeSpan.FromTicks(Math.Min(s_lastRetry.Ticks, s_firstRetry.Ticks << Math.Min(failures - 1, 20)));
            return new ReconcileView(state, _time.GetUtcNow(), message, taken, drift, rolledBack, failures, _time.GetUtcNow() + delay);
        }
    }

    private static Dictionary<string, string> Properties(params (string Key, string? Value)[] pairs) =>
        pairs.Where(pair => pair.Value is not null).ToDictionary(pair => pair.Key, pair => pair.Value!);

    // inotify on the declaration's directory: an edit, a replacement by rename, a removal.
    private void WatchDeclaration()
    {
        var path = HostDeclaration.PathOf(_host.Environment);
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory, MdevkitPaths.SharedDirectoryMode);
        _watcher = new FileSystemWatcher(directory, Path.GetFileName(path)) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite };
        _watcher.Created += (_, _) => Trigger(urgent: true);
        _watcher.Changed += (_, _) => Trigger(urgent: true);
        _watcher.Deleted += (_, _) => Trigger(urgent: true);
        _watcher.Renamed += (_, _) => Trigger(urgent: true);
        _watcher.Error += (_, _) => Trigger(urgent: true);
        _watcher.EnableRaisingEvents = true;
    }
}
