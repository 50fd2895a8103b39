using Google.Protobuf;
using Grpc.Core;
using V1 = Mdevkit.Kubernetes.Protos.Dra.V1;
using V1Beta1 = Mdevkit.Kubernetes.Protos.Dra.V1Beta1;

namespace Mdevkit.Kubernetes;

/// <summary>
/// The kubelet's <c>v1.DRAPlugin</c>: prepares and unprepares claims, answering every claim of a request, each with its
/// devices or its own error, so one bad claim never hides the others.
/// </summary>
internal sealed partial class DraPluginService(ClaimAllocations allocations, PreparedClaims prepared, DeviceHealth health, IEnumerable<ISlicePublisher> publishers, ILogger<DraPluginService> logger)
    : V1.DRAPlugin.DRAPluginBase
{
    public override async Task<V1.NodePrepareResourcesResponse> NodePrepareResources(V1.NodePrepareResourcesRequest request, ServerCallContext context)
    {
        var response = new V1.NodePrepareResourcesResponse();
        foreach (var claim in request.Claims.Select(claim => new ClaimRef(claim.Namespace, claim.Uid, claim.Name)))
        {
            var answer = new V1.NodePrepareResourceResponse();
            try
            {
                var devices = prepared.TryGetPrepared(claim.Uid) ?? await PrepareAsync(claim, context.CancellationToken);
                answer.Devices.AddRange(devices.Select(device => new V1.Device
                {
                    RequestNames = { device.Request.Split('/')[0] },
                    PoolName = device.Pool,
                    DeviceName = device.Device,
                    CdiDeviceIds = { device.CdiDeviceIds },
                }));
                LogPrepared(logger, claim.Namespace, claim.Name, answer.Devices.Count);
            }
            catch (ClaimException e)
            {
                answer.Error = e.Message;
                LogFailed(logger, "prepare", e.Message);
            }
            response.Claims[claim.Uid] = answer;
        }
        health.HostChanged();
        publishers.PublishNow("claims prepared");
        return response;
    }

    public override Task<V1.NodeUnprepareResourcesResponse> NodeUnprepareResources(V1.NodeUnprepareResourcesRequest request, ServerCallContext context)
    {
        var response = new V1.NodeUnprepareResourcesResponse();
        foreach (var claim in request.Claims)
        {
            var answer = new V1.NodeUnprepareResourceResponse();
            try
            {
                prepared.Unprepare(claim.Uid);
                LogUnprepared(logger, claim.Namespace, claim.Name);
            }
            catch (ClaimException e)
            {
                answer.Error = e.Message;
                LogFailed(logger, "unprepare", e.Message);
            }
            response.Claims[claim.Uid] = answer;
        }
        health.HostChanged();
        publishers.PublishNow("claims unprepared");
        return Task.FromResult(response);
    }

    private async Task<IReadOnlyList<PreparedDevice>> PrepareAsync(ClaimRef claim, CancellationToken cancellation)
    {
        // The API server first, without the lock; the devices then under it, in one go.
        var (generation, devices) = await allocations.ReadAsync(claim, cancellation);
        return prepared.Prepare(claim, generation, devices);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Prepared claim {Namespace}/{Name}: {Count} device(s)")]
    private static partial void LogPrepared(ILogger logger, string @namespace, string name, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unprepared claim {Namespace}/{Name}")]
    private static partial void LogUnprepared(ILogger logger, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot {Operation}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string operation, string reason);
}

/// <summary>
/// The kubelet's <c>v1beta1.DRAPlugin</c>, for kubelets that know no v1: its messages are v1's field for field, so each
/// call is carried over to <see cref="DraPluginService"/> through the wire format and its answer back the same way.
/// </summary>
internal sealed class DraPluginV1Beta1Service(DraPluginService v1) : V1Beta1.DRAPlugin.DRAPluginBase
{
    public override async Task<V1Beta1.NodePrepareResourcesResponse> NodePrepareResources(V1Beta1.NodePrepareResourcesRequest request, ServerCallContext context) =>
        Convert(await v1.NodePrepareResources(Convert(request, V1.NodePrepareResourcesRequest.Parser), context), V1Beta1.NodePrepareResourcesResponse.Parser);

    public override async Task<V1Beta1.NodeUnprepareResourcesResponse> NodeUnprepareResources(V1Beta1.NodeUnprepareResourcesRequest request, ServerCallContext context) =>
        Convert(await v1.NodeUnprepareResources(Convert(request, V1.NodeUnprepareResourcesRequest.Parser), context), V1Beta1.NodeUnprepareResourcesResponse.Parser);

    private static T Convert<T>(IMessage message, MessageParser<T> parser) where T : IMessage<T> => parser.ParseFrom(message.ToByteString());
}
