using Grpc.Core;
using Health = Mdevkit.Kubernetes.Protos.DraHealth.V1;

namespace Mdevkit.Kubernetes;

/// <summary>
/// The kubelet's <c>v1.DRAResourceHealth</c>: streams the complete list of prepared devices, each healthy while its
/// mdev or vGPU runs where it was made and unhealthy (with the reason) once it does not, e.g. when its parent was
/// unplugged. A list goes out when it changes, and every <see cref="DeviceHealth.CheckPeriod"/> as it is, so the
/// kubelet's timeout (<see cref="DeviceHealth.Timeout"/>) never takes a device for unknown while the plugin runs.
/// </summary>
internal sealed class DraHealthService(DeviceHealth health) : Health.DRAResourceHealth.DRAResourceHealthBase
{
    public override async Task NodeWatchResources(Health.NodeWatchResourcesRequest request, IServerStreamWriter<Health.NodeWatchResourcesResponse> responseStream, ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        IReadOnlyList<DeviceCondition>? sent = null;
        var periodic = true;
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                var change = health.NextChange();
                // A check that fails this time keeps the last list: the devices did not change for not being read.
                if ((health.Check() ?? sent) is { } now && (periodic || sent is null || !now.SequenceEqual(sent)))
                {
                    await responseStream.WriteAsync(Response(now, DateTimeOffset.UtcNow.ToUnixTimeSeconds()), cancellation);
                    sent = now;
                }
                // The period's timer goes when a change comes first, so a busy host leaves no timers behind.
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                var period = Task.Delay(DeviceHealth.CheckPeriod, wait.Token);
                periodic = await Task.WhenAny(change, period) == period;
                await wait.CancelAsync();
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The kubelet went away: the stream ends with it.
        }
    }

    private static Health.NodeWatchResourcesResponse Response(IReadOnlyList<DeviceCondition> conditions, long checkedAt) => new()
    {
        Devices =
        {
            conditions.Select(condition => new Health.DeviceHealth
            {
                Device = new Health.DeviceIdentifier { PoolName = condition.Pool, DeviceName = condition.Device },
                Health = condition.Problem is null ? Health.HealthStatus.Healthy : Health.HealthStatus.Unhealthy,
                LastUpdatedTime = checkedAt,
                HealthCheckTimeoutSeconds = (long)DeviceHealth.Timeout.TotalSeconds,
                // Short by construction (a UUID and PCI addresses), within the API's 1024 bytes.
                Message = condition.Problem ?? "",
            }),
        },
    };
}
