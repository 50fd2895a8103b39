using Mdevkit.Management;
using Mdevkit.Sysfs;

namespace Mdevkit.Agent;

/// <summary>
/// The kernel's changes as udev passes them on: a listener on the udev netlink group, in the root's own
/// network namespace when it has one (a simulated host sends there), else in the agent's.
/// </summary>
internal sealed class UdevEventSource(ManagedHost host, EventHub hub, ILogger<UdevEventSource> logger) : BackgroundService
{
    // How often the listener looks up from an empty socket to see whether the agent is stopping.
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(250);

    /// <summary>Where a root keeps its network namespace, if it has one of its own.</summary>
    public static string NamespaceOf(ManagedHost host) => host.Environment.Sysfs.PathOf(MdevkitPaths.NetworkNamespace);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Factory.StartNew(() =>
    {
        using var socket = File.Exists(NamespaceOf(host))
            ? UeventSocket.OpenIn(NamespaceOf(host), UeventSocket.UdevGroup)
            : UeventSocket.Open(UeventSocket.UdevGroup);
        while (!stoppingToken.IsCancellationRequested)
        {
            byte[]? message;
            try
            {
                message = socket.Receive(s_poll);
            }
            catch (SysfsException e) when (e.Errno == Errno.ENOBUFS)
            {
                Log.EventsLost(logger);
                hub.Publish("events-lost");
                continue;
            }
            if (message is not null && UdevMessages.TryDecode(message, out var properties) && Translate(properties) is { } translated)
            {
                hub.Publish(translated.Type, translated.Uuid, translated.Parent, properties.ToDictionary());
            }
        }
    }, stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>What an mdev-related udev event means for the API's clients; null for events of no interest.</summary>
    public static (string Type, Guid? Uuid, string? Parent)? Translate(IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        string? Value(string key) => properties.FirstOrDefault(property => property.Key == key).Value;
        var components = (Value("DEVPATH") ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var action = Value("ACTION");
        if (Value("SUBSYSTEM") == "mdev" && components.Length >= 2 && MdevUuid.TryParse(components[^1], out var uuid))
        {
            return action switch
            {
                "add" => ("device-added", uuid, components[^2]),
                "remove" => ("device-removed", uuid, components[^2]),
                "change" => ("device-changed", uuid, components[^2]),
                _ => null,
            };
        }
        return (Value("MDEV_STATE"), components) switch
        {
            ("registered", [.., var parent]) => ("parent-registered", null, parent),
            ("unregistered", [.., var parent]) => ("parent-unregistered", null, parent),
            _ => null,
        };
    }
}

/// <summary>Definitions changed by anyone (a command, a script, an editor): inotify on mdevctl's configuration directory.</summary>
internal sealed class DefinitionEventSource(ManagedHost host, EventHub hub, ILogger<DefinitionEventSource> logger) : IHostedService, IDisposable
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
        _watcher.Renamed += (_, change) => Changed(change.FullPath);
        // The watcher lost events (its queue overflowed, or inotify ran out of watches): clients must read again.
        _watcher.Error += (_, failure) =>
        {
            Log.DefinitionEventsLost(logger, failure.GetException().Message);
            hub.Publish("events-lost");
        };
        _watcher.EnableRaisingEvents = true;
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
            hub.Publish("definition-changed", uuid, parent);
        }
        else if (relative is [var newParent] && newParent != MdevctlEnvironment.ScriptsDirectoryName && Directory.Exists(path))
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
