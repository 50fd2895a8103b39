using Grpc.Core;
using Mdevkit.Kubernetes.Protos.Registration;

namespace Mdevkit.Kubernetes;

/// <summary>
/// Told when the node's ResourceSlices may have to change: when the plugin starts, when the kubelet has registered it
/// (at its first start and again after every kubelet restart: the kubelet wipes a driver's ResourceSlices of its node
/// when the driver goes away), after a prepare or unprepare, and when udev tells of an mdev or parent that came or
/// went. Implementations return at once and do the publishing on their own time. <see cref="PluginHost.Build"/>
/// registers the plugin's own (<see cref="Slices.BackgroundSlicePublisher"/>); more can be added with
/// <c>services.AddSingleton&lt;ISlicePublisher, …&gt;()</c> in its <c>configureServices</c>.
/// </summary>
public interface ISlicePublisher
{
    /// <summary>Publish this node's slices now (again); <paramref name="reason"/> says why, for the log.</summary>
    void PublishNow(string reason);
}

/// <summary>Asking every registered publisher at once.</summary>
public static class SlicePublishers
{
    /// <summary>Tells each publisher to publish now; <paramref name="reason"/> says why.</summary>
    public static void PublishNow(this IEnumerable<ISlicePublisher> publishers, string reason)
    {
        foreach (var publisher in publishers)
        {
            publisher.PublishNow(reason);
        }
    }
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
            publishers.PublishNow("the kubelet registered the plugin");
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
