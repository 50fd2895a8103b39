using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using Mdevkit.Management;

namespace Mdevkit.Kubernetes.Slices;

/// <summary>
/// The plugin's <see cref="ISlicePublisher"/>: publishes the node's slices in the background, one publish at a time.
/// Requests that come while one waits or runs become one more publish after it (a burst of udev events, a kubelet
/// registering while a prepare ends), which reads the host as it is then. A publish the API server refuses or cannot
/// take is tried again after a pause that doubles up to a minute, until it goes through or a newer request replaces it.
/// </summary>
internal sealed partial class BackgroundSlicePublisher(IKubernetes client, PluginOptions options, ManagedHost host, PreparedClaims prepared, ILogger<BackgroundSlicePublisher> logger)
    : BackgroundService, ISlicePublisher
{
    // How long a request waits for others of its burst (a parent's devices going one by one).
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_firstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_lastRetry = TimeSpan.FromMinutes(1);

    // One pending request at most: a request while one is pending is already answered by it.
    private readonly Channel<string> _requests = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly SlicePublisher _publisher = new(client, options.NodeName);

    public void PublishNow(string reason) => _requests.Writer.TryWrite(reason);

    public override void Dispose()
    {
        _publisher.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = s_firstRetry;
        try
        {
            while (await _requests.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(s_settle, stoppingToken);
                if (!_requests.Reader.TryRead(out var reason))
                {
                    continue;
                }
                if (await TryPublishAsync(reason, retry, stoppingToken))
                {
                    retry = s_firstRetry;
                    continue;
                }
                await Task.Delay(retry, stoppingToken);
                retry = retry * 2 < s_lastRetry ? retry * 2 : s_lastRetry;
                PublishNow(reason);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The plugin is stopping: the kubelet removes its slices when it unregisters.
        }
    }

    private async Task<bool> TryPublishAsync(string reason, TimeSpan retry, CancellationToken stoppingToken)
    {
        try
        {
            NodeCapacity node;
            IReadOnlySet<Guid> own;
            // Under the root's lock, so that a device being prepared is seen with the checkpoint entry that makes it the driver's.
            using (RootLock.Acquire(host.Environment))
            {
                own = prepared.Devices();
                node = NodeCapacityReader.Read(host, options.NodeName);
            }
            var result = await _publisher.PublishAsync(node, own, stoppingToken);
            if (result.Unchanged)
            {
                LogUnchanged(logger, options.NodeName, result.Generation, reason);
            }
            else
            {
                LogPublished(logger, options.NodeName, result.Generation, result.Created, result.Replaced, result.Deleted, reason);
            }
            return true;
        }
        catch (Exception e) when (Describe(e, stoppingToken) is { } failure)
        {
            LogFailed(logger, options.NodeName, reason, failure, retry.TotalSeconds);
            return false;
        }
    }

    // What went wrong, in one line; null for what is no failure to retry (the plugin stopping) or a bug.
    private static string? Describe(Exception e, CancellationToken stoppingToken) => e switch
    {
        HttpOperationException refused => $"the API server refused it: {(int?)refused.Response?.StatusCode} {ClaimAllocations.StatusMessage(refused.Response?.Content) ?? refused.Message}",
        HttpRequestException unreachable => $"the API server cannot be reached: {unreachable.Message}",
        OperationCanceledException when !stoppingToken.IsCancellationRequested => "the API server did not answer in time",
        ClaimException or MdevctlException or IOException or UnauthorizedAccessException => e.Message,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Published the ResourceSlices of node {Node} at pool generation {Generation}: {Created} created, {Replaced} replaced, {Deleted} deleted ({Reason})")]
    private static partial void LogPublished(ILogger logger, string node, long generation, int created, int replaced, int deleted, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The ResourceSlices of node {Node} are up to date at pool generation {Generation} ({Reason})")]
    private static partial void LogUnchanged(ILogger logger, string node, long generation, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot publish the ResourceSlices of node {Node} ({Reason}): {Failure}; trying again in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, string node, string reason, string failure, double seconds);
}
