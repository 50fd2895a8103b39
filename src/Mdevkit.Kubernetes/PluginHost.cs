using k8s;
using k8s.Exceptions;
using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mdevkit.Kubernetes;

/// <summary>A failure to start the plugin, told in one line.</summary>
public sealed class PluginException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// <c>mdevkit-dra</c> as an ASP.NET Core application: Kestrel on two Unix sockets with HTTP/2, the registration socket
/// in the kubelet's plugin registry and the DRA endpoint in the plugin's directory, both removed again when it stops;
/// in the background, the node's ResourceSlices published and kept up to date.
/// </summary>
public static partial class PluginHost
{
    /// <summary>Builds the plugin; unfinished prepares a killed plugin left are rolled back here, before it serves.</summary>
    /// <param name="options">What it runs with.</param>
    /// <param name="configureServices">Adds services, such as another <see cref="ISlicePublisher"/>.</param>
    /// <exception cref="PluginException">The API server cannot be configured, or a socket or the checkpoint is in the way.</exception>
    public static WebApplication Build(PluginOptions options, Action<IServiceCollection>? configureServices = null)
    {
        var paths = options.Paths;
        var client = Connect(options.ApiServer);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        foreach (var socket in new[] { paths.RegistrationSocket, paths.Endpoint })
        {
            ClearSocket(socket);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(paths.RegistrationSocket, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.ListenUnixSocket(paths.Endpoint, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(paths);
        builder.Services.AddSingleton<IKubernetes>(client);
        // Management's warnings are the plugin's log lines.
        builder.Services.AddSingleton(services =>
        {
            var logger = services.GetRequiredService<ILogger<ManagedHost>>();
            return new ManagedHost(new MdevctlEnvironment(options.Root, warning => LogWarning(logger, warning)), Console.Error);
        });
        builder.Services.AddSingleton(services => new PreparedClaims(services.GetRequiredService<ManagedHost>(), paths));
        builder.Services.AddSingleton(new ClaimAllocations(client, options.NodeName));
        builder.Services.AddSingleton<DraPluginService>();
        builder.Services.AddSingleton<DeviceHealth>();
        builder.Services.AddSingleton<BackgroundSlicePublisher>();
        builder.Services.AddSingleton<ISlicePublisher>(services => services.GetRequiredService<BackgroundSlicePublisher>());
        builder.Services.AddHostedService(services => services.GetRequiredService<BackgroundSlicePublisher>());
        builder.Services.AddHostedService<CapacityEventSource>();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        Recover(app);
        app.MapGrpcService<RegistrationService>();
        app.MapGrpcService<DraPluginService>();
        app.MapGrpcService<DraPluginV1Beta1Service>();
        app.MapGrpcService<DraHealthService>();
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            File.Delete(paths.RegistrationSocket);
            File.Delete(paths.Endpoint);
        });
        return app;
    }

    private static k8s.Kubernetes Connect(ApiServerAccess access)
    {
        try
        {
            var configuration = access switch
            {
                { Server: { } server } => new KubernetesClientConfiguration { Host = server },
                { Kubeconfig: { } file } => KubernetesClientConfiguration.BuildConfigFromConfigFile(file),
                _ => KubernetesClientConfiguration.InClusterConfig(),
            };
            return new k8s.Kubernetes(configuration);
        }
        catch (KubeConfigException e)
        {
            throw new PluginException(access.Kubeconfig is null
                ? $"not running in a cluster ({e.Message}); give --kubeconfig or --server"
                : $"--kubeconfig {access.Kubeconfig}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UriFormatException)
        {
            throw new PluginException(access.Server is { } server ? $"--server {server}: {e.Message}" : $"--kubeconfig {access.Kubeconfig}: {e.Message}", e);
        }
    }

    // A socket left by a killed plugin (or the one this replaces, whose kubelet registration goes with it) is in the way of listening.
    private static void ClearSocket(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (Directory.Exists(path))
            {
                throw new PluginException($"{path} is a directory, not a socket");
            }
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PluginException($"cannot make the socket {path}: {e.Message}", e);
        }
    }

    private static void Recover(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILogger<PreparedClaims>>();
        try
        {
            foreach (var claim in app.Services.GetRequiredService<PreparedClaims>().Recover())
            {
                LogRolledBack(logger, claim.Namespace, claim.Name);
            }
        }
        catch (Exception e) when (e is ClaimException or MdevctlException or IOException or UnauthorizedAccessException)
        {
            throw new PluginException($"cannot roll back the unfinished prepares of the last run: {e.Message}", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void LogWarning(ILogger logger, string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rolled back the unfinished prepare of claim {Namespace}/{Name}: the kubelet prepares it again")]
    private static partial void LogRolledBack(ILogger logger, string @namespace, string name);
}
