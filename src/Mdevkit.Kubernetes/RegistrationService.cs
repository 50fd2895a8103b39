using Grpc.Core;
using Mdevkit.Kubernetes.Protos.Registration;

namespace Mdevkit.Kubernetes;

/// <summary>
/// Told when the kubelet has registered the plugin, at its first start and again after every kubelet restart. The
/// kubelet wipes a driver's ResourceSlices of its node when the driver goes away, so whoever publishes them publishes
/// again here. Implementations return at once and do the publishing on their own time; register one with
/// <c>services.AddSingleton&lt;ISlicePublisher, …&gt;()</c> in <see cref="PluginHost.Build"/>'s
/// <c>configureServices</c>. With none registered, nothing is published.
/// </summary>
public interface ISlicePublisher
{
    /// <summary>Publish this node's slices now (again); <paramref name="reason"/> says why, for the log.</summary>
    void PublishNow(string reason);
}

/// <summary>
/// The kubelet's <c>pluginregistration.Registration</c> on the socket its plugin watcher finds: says which driver this
/// is, where its DRA service listens and which versions of it it serves, and hears whether registration worked.
/// </summary>
internal sealed partial class RegistrationService(PluginPaths paths, IEnumerable<ISlicePublisher> publishers, ILogger<RegistrationService> logger) : Registration.RegistrationBase
{
    /// <summary>The DRA service versions served, preferred first, as the kubelet names them.</summary>
    public static readonly IReadOnlyList<string> SupportedVersions = ["v1.DRAPlugin", "v1beta1.DRAPlugin"];

    public override Task<PluginInfo> GetInfo(InfoRequest request, ServerCallContext context) => Task.FromResult(new PluginInfo
    {
        Type = "DRAPlugin",
        Name = DraNames.Driver,
        Endpoint = paths.Endpoint,
        SupportedVersions = { SupportedVersions },
    });

    public override Task<RegistrationStatusResponse> NotifyRegistrationStatus(RegistrationStatus request, ServerCallContext context)
    {
        if (request.PluginRegistered)
        {
            LogRegistered(logger, DraNames.Driver);
            foreach (var publisher in publishers)
            {
                publisher.PublishNow("the kubelet registered the plugin");
            }
        }
        else
        {
            LogRefused(logger, request.Error);
        }
        return Task.FromResult(new RegistrationStatusResponse());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The kubelet registered the plugin of {Driver}")]
    private static partial void LogRegistered(ILogger logger, string driver);

    [LoggerMessage(Level = LogLevel.Error, Message = "The kubelet refused the registration: {Error}")]
    private static partial void LogRefused(ILogger logger, string error);
}
