using Mdevkit.Management;
using Mdevkit.Management.Events;
using Mdevkit.Sysfs;

namespace Mdevkit.Agent;

/// <summary>
/// The kernel's changes as udev passes them on: a listener on the udev netlink group, in the root's own
/// network namespace when it has one (a simulated host sends there), else in the agent's.
/// </summary>
internal sealed class UdevEventSource(ManagedHost host, HostView view, EventHub hub, HolderPoll holders, ILogger<UdevEventSource> logger) : BackgroundService
{
    // How often the listener looks up from an empty socket to see whether the agent is stopping.
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(250);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Factory.StartNew(() =>
    {
        using var listener = UdevListener.Open(host.Environment);
        // Listening first, then reading: every change from here on has an event that reads it again.
        view.RefreshAll();
        while (!stoppingToken.IsCancellationRequested)
        {
            var batch = listener.Receive(s_poll);
            // The view first, so that a client reading on an event finds what the event told.
            var changes = batch.Lost ? [new HostChange.EventsLost()] : batch.Events.Select(HostChange.FromUdev).OfType<HostChange>().ToList();
            view.Refresh(changes);
            if (changes.Any(change => change is HostChange.DeviceChanged { InUse: true }))
            {
                holders.Soon();
            }
            foreach (var properties in batch.Events)
            {
                if (MdevUdevEvent.FromUdev(properties) is { } translated)
                {
                    hub.Publish(translated.Type, translated.Uuid, translated.Parent, properties.ToDictionary());
                }
            }
            if (batch.Lost)
            {
                Log.EventsLost(logger);
                hub.Publish("events-lost");
            }
        }
    }, stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}

/// <summary>
/// Opens and releases the kernel tells no event of (a VMM opening a VFIO group): which process holds each running device
/// is read again every few seconds, and a device whose holder changed is told as <c>device-changed</c>. A device that
/// tells of an open or a release has them read again soon too: its event goes out while the opener is still in
/// <c>open(2)</c>, before the descriptor that shows the holder exists.
/// </summary>
internal sealed class HolderPoll(HostView view, EventHub hub) : BackgroundService
{
    /// <summary>How often holders are read again: one walk of /proc each time.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    // How long after an open's event its descriptor is surely there.
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(100);
    private readonly SemaphoreSlim _soon = new(0, 1);

    /// <summary>Reads the holders again shortly, besides the regular reads.</summary>
    public void Soon()
    {
        try
        {
            _soon.Release();
        }
        catch (SemaphoreFullException)
        {
            // A read is asked for already.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                if (await _soon.WaitAsync(Interval, stoppingToken))
                {
                    await Task.Delay(s_settle, stoppingToken);
                }
                foreach (var (uuid, parent) in view.RefreshHolders())
                {
                    hub.Publish("device-changed", uuid, parent);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The agent stops.
        }
    }

    public override void Dispose()
    {
        _soon.Dispose();
        base.Dispose();
    }
}

/// <summary>Definitions changed by anyone (a command, a script, an editor): inotify on mdevctl's configuration directory.</summary>
internal sealed class DefinitionEventSource(ManagedHost host, HostView view, EventHub hub, ILogger<DefinitionEventSource> logger) : IHostedService, IDisposable
{
    private FileSystemWatcher? _watcher;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = host.Environment.ConfigDirectory;
        if (!Directory.Exists(directory))
        {
            return Task.CompletedTask;
        }
        _watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite };
        _watcher.Created += (_, change) => Changed(change.FullPath);
        _watcher.Changed += (_, change) => Changed(change.FullPath);
        _watcher.Deleted += (_, change) => Changed(change.FullPath);
        // What was renamed away is gone from where it was.
        _watcher.Renamed += (_, change) =>
        {
            Changed(change.OldFullPath);
            Changed(change.FullPath);
        };
        // The watcher lost events (its queue overflowed, or inotify ran out of watches): clients must read again.
        _watcher.Error += (_, failure) =>
        {
            Log.DefinitionEventsLost(logger, failure.GetException().Message);
            view.RefreshAll();
            hub.Publish("events-lost");
        };
        _watcher.EnableRaisingEvents = true;
        // Watching first, then reading: every definition written from here on has an event that reads it again.
        view.RefreshAll();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _watcher?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _watcher?.Dispose();

    // A definition is PARENT/UUID below the directory; temporary files (dot names) and scripts are not. A new
    // parent directory is read as well: its first definition can be written before inotify watches it.
    private void Changed(string path)
    {
        var relative = Path.GetRelativePath(host.Environment.ConfigDirectory, path).Split('/');
        if (relative is [var parent, var name] && parent != MdevctlEnvironment.ScriptsDirectoryName && MdevUuid.TryParse(name, out var uuid))
        {
            view.Refresh([new HostChange.DefinitionChanged(parent, uuid)]);
            hub.Publish("definition-changed", uuid, parent);
            return;
        }
        if (relative is not [var directory] || directory == MdevctlEnvironment.ScriptsDirectoryName)
        {
            return;
        }
        // A parent's directory made, removed or renamed: its definitions came or went with it.
        view.Refresh([new HostChange.DefinitionDirectoryChanged(directory)]);
        if (Directory.Exists(path))
        {
            try
            {
                foreach (var file in Directory.GetFiles(path))
                {
                    Changed(file);
                }
            }
            catch (DirectoryNotFoundException)
            {
                // Gone again already: nothing to tell.
            }
        }
    }
}
