using Mdevkit.Management;
using Mdevkit.Management.Events;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>
/// Republishes when someone else changes the host's capacity: it listens to udev's events (in the root's network
/// namespace when it has one, as a simulated host's) and asks for a publish on every mdev added or removed and every
/// parent registered or unregistered, and when events were lost; the same changes make the health stream look again
/// at once, so an unplugged parent's devices turn unhealthy without waiting for its next check. An mdev opened or
/// released changes nothing offered.
/// It also asks for the first publish, once it listens, so no change after that read goes untold.
/// </summary>
internal sealed partial class CapacityEventSource(ManagedHost host, IEnumerable<ISlicePublisher> publishers, DeviceHealth health, ILogger<CapacityEventSource> logger)
    : BackgroundService
{
    // How often the listener looks up from an empty socket to see whether the plugin is stopping.
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(250);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Factory.StartNew(() =>
    {
        UdevListener listener;
        try
        {
            listener = UdevListener.Open(host.Environment);
        }
        catch (SysfsException e)
        {
            LogNoEvents(logger, e.Message);
            publishers.PublishNow("the plugin started");
            return;
        }
        using (listener)
        {
            publishers.PublishNow("the plugin started");
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = listener.Receive(s_poll);
                if (batch.Lost)
                {
                    publishers.PublishNow("udev events were lost");
                    health.HostChanged();
                }
                else if (batch.Events.Select(MdevUdevEvent.FromUdev).FirstOrDefault(change => change is not null and not { Type: "device-changed" }) is { } change)
                {
                    publishers.PublishNow(change.Uuid is { } uuid ? $"{change.Type} {MdevUuid.Format(uuid)} on {change.Parent}" : $"{change.Type} {change.Parent}");
                    health.HostChanged();
                }
            }
        }
    }, stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot listen to udev's events ({Reason}): the ResourceSlices are published only at registration, prepare and unprepare")]
    private static partial void LogNoEvents(ILogger logger, string reason);
}
