using System.Diagnostics;
using Mdevkit.Management;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Mdevkit.Agent;

/// <summary>Where the agent serves and what it manages.</summary>
/// <param name="Root">The root it manages: <c>/</c>, or a simulator's.</param>
/// <param name="Socket">The Unix socket of the API.</param>
public sealed record AgentOptions(string Root, string Socket)
{
    /// <summary>The configuration file (<c>--config</c>), which must exist; null reads the root's if it has one.</summary>
    public string? Configuration { get; init; }

    /// <summary>TCP addresses to listen on besides the configuration's (<c>--listen</c>).</summary>
    public IReadOnlyList<string> Listen { get; init; } = [];

    /// <summary>How long an event stream may stay silent before the agent sends a comment, so a dead connection shows.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>The agent as an ASP.NET Core application: Management wired once, the API, metrics, problems for every failure.</summary>
public static class AgentApp
{
    /// <summary>Builds the application; <see cref="WebApplication.StartAsync"/> then listens and secures the socket.</summary>
    /// <exception cref="AgentException">The socket is served by another agent or in the way, or the configuration is wrong.</exception>
    public static WebApplication Build(AgentOptions options, string[]? args = null)
    {
        var configuration = AgentConfiguration.Load(options.Root, options.Configuration, options.Listen);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [] });
        builder.Services.AddHostedService<SystemdNotifier>();
        // Under systemd, whose journal gets the log through JOURNAL_STREAM: its priority prefixes, no colours.
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null)
        {
            builder.Logging.ClearProviders().AddSystemdConsole();
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, AgentJson.Default);
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        AgentSocket.Prepare(options.Socket);
        if (configuration.Certificate is not null)
        {
            // The slim builder leaves HTTPS out unless asked for.
            builder.WebHost.UseKestrelHttpsConfiguration();
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(options.Socket);
            foreach (var address in configuration.Listen)
            {
                kestrel.Listen(address, listen => UseTls(listen, configuration));
            }
            kestrel.Limits.MaxRequestBodySize = Api.MaxBodyLength;
        });

        // Management's warnings (a skipped definition, a distrusted callout) are the agent's log lines.
        builder.Services.AddSingleton(services =>
        {
            var logger = services.GetRequiredService<ILogger<ManagedHost>>();
            return new ManagedHost(new MdevctlEnvironment(options.Root, warning => Log.Warning(logger, warning)), Console.Error);
        });
        builder.Services.AddSingleton(configuration);
        builder.Services.AddSingleton<ConfigurationReloader>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ConfigurationReloader>());
        builder.Services.AddSingleton(new EventStreamOptions(options.Heartbeat));
        // What reads answer from: kept current by the event sources below.
        builder.Services.AddSingleton(services => new HostView(services.GetRequiredService<ManagedHost>()));
        builder.Services.AddSingleton<Listings>();
        builder.Services.AddSingleton<AgentMetrics>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EventHub>();
        builder.Services.AddHostedService<UdevEventSource>();
        builder.Services.AddHostedService<DefinitionEventSource>();
        builder.Services.AddSingleton<HolderPoll>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HolderPoll>());
        builder.Services.AddSingleton<ReconcileService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ReconcileService>());

        var app = builder.Build();
        var metrics = app.Services.GetRequiredService<AgentMetrics>();
        // Outermost, so a request's recorded status is the one its problem body was sent with.
        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                metrics.Observe(context.Request.Method, route, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
            }
        });
        app.Use(Access.Middleware(configuration));
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = Problems.InternalErrorAsync });
        app.UseStatusCodePages(Problems.NotPartOfTheApiAsync);
        Api.Map(app);
        Dashboard.Map(app);
        app.MapGet("/metrics", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.WriteAsync(context.Response.Body, context.RequestAborted);
        });
        app.Lifetime.ApplicationStarted.Register(() => AgentSocket.Secure(options.Socket));
        return app;
    }

    // TLS when a certificate is configured; a client certificate is asked for (not required: a token will do) when
    // some are pinned, and judged by its pin alone, so it needs no certificate authority.
    private static void UseTls(ListenOptions listen, AgentConfiguration configuration)
    {
        if (configuration.Certificate is not { } certificate)
        {
            return;
        }
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ClientCertificateMode = configuration.Credentials.HasCertificates
                ? ClientCertificateMode.AllowCertificate
                : ClientCertificateMode.NoCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        });
    }
}
