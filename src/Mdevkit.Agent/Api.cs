using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Mdevkit.Management;
using Mdevkit.Management.Events;
using Mdevkit.Management.Planning;

namespace Mdevkit.Agent;

/// <summary>
/// The <c>/v1</c> API: each endpoint is one call into Management, with the command line's semantics and
/// the root's one lock, so an API call and a command racing each other lose nothing.
/// </summary>
internal static class Api
{
    /// <summary>The most a request body may hold: a definition is a few hundred bytes, a plan a few kilobytes per device.</summary>
    public const int MaxBodyLength = 1 << 20;

    // Names bodies in error messages, where the command line names a --jsonfile.
    private const string Body = "request body";

    // The OpenAPI document of this API (docs/openapi.json, embedded at build).
    private static readonly Lazy<byte[]> s_openApi = new(() =>
    {
        using var resource = typeof(Api).Assembly.GetManifestResourceStream("openapi.json")!;
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        return copy.ToArray();
    });

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void Map(WebApplication app)
    {
        var v1 = app.MapGroup("/v1");
        v1.AddEndpointFilter(Problems.ExpectedFailures);
        // Reads answer from the view; each change made here is read into it before the answer, so a client
        // sees its own change at once, before the event that tells everyone else.
        v1.MapGet("/parents", (Listings listings) => listings.Parents());
        v1.MapGet("/parents/{name}", (ManagedHost host, HostView view, string name) =>
            view.Current.Types(name) is [var parent] ? Results.Ok(Views.Parent(parent.Parent, parent.Types, host.CapacityModels.TryLoad(parent.Parent))) : NotFound($"no parent device '{name}'"));
        v1.MapPost("/parents/{name}/probe", (ManagedHost host, Listings devices, string name) =>
        {
            var model = host.Probe.Probe(name);
            devices.View.Refresh([new HostChange.ParentChanged(name)]);
            return TypedResults.Ok(model);
        });

        v1.MapGet("/devices", (Listings listings) => listings.Devices());
        v1.MapGet("/devices/{uuid:guid}", (Listings devices, Guid uuid) =>
            devices.Of(uuid) is { Count: > 0 } found ? Results.Ok(found) : NotFound($"no device {uuid:D}"));
        v1.MapPost("/devices/{uuid:guid}/start", (ManagedHost host, Listings devices, Guid uuid, string? parent) =>
        {
            host.Manager.Start(new StartRequest(uuid, parent, null));
            return TypedResults.Ok(devices.After(new HostChange.DeviceChanged(uuid, parent), uuid));
        });
        v1.MapPost("/devices/{uuid:guid}/stop", (ManagedHost host, Listings devices, Guid uuid) =>
        {
            host.Manager.Stop(uuid);
            devices.View.Refresh([new HostChange.DeviceChanged(uuid, null)]);
            return TypedResults.NoContent();
        });

        // A definition's body is mdevctl's own file format, as `define --jsonfile` reads it.
        v1.MapPut("/definitions/{parent}/{uuid:guid}", async (ManagedHost host, Listings devices, string parent, Guid uuid, HttpRequest request) =>
        {
            var text = await ReadBodyAsync(request);
            host.Manager.Define(new DefineRequest(uuid, parent, null, AutoStart: false, Json: (Body, text)));
            return TypedResults.Created($"/v1/devices/{uuid:D}", devices.After(new HostChange.DefinitionChanged(parent, uuid), uuid));
        });
        v1.MapDelete("/definitions/{parent}/{uuid:guid}", (ManagedHost host, Listings devices, string parent, Guid uuid) =>
        {
            host.Manager.Undefine(uuid, parent);
            devices.View.Refresh([new HostChange.DefinitionChanged(parent, uuid)]);
            return TypedResults.NoContent();
        });

        // A plan changes nothing: a read credential may ask for one.
        v1.MapPost("/plan", async (ManagedHost host, HttpRequest request) =>
            TypedResults.Ok(host.Planner.Plan(Planner.ParseRequestJson(await ReadBodyAsync(request), Body))))
            .WithMetadata(new RequiredRole(Role.Read));
        v1.MapPost("/apply", async (ManagedHost host, HostView view, HttpRequest request) =>
        {
            var made = host.Provisioning.Apply(Plan.Parse(await ReadBodyAsync(request), Body));
            view.Refresh(made.SelectMany(device => new HostChange[] { new HostChange.DefinitionChanged(device.Parent, device.Uuid), new HostChange.DeviceChanged(device.Uuid, device.Parent) }));
            return TypedResults.Ok(made);
        });

        v1.MapGet("/groups", (ManagedHost host) =>
            TypedResults.Ok<IReadOnlyList<GroupView>>([.. host.Groups.Names().Select(name => new GroupView(name, host.Groups.Members(name)))]));
        v1.MapGet("/events", async (EventHub hub, EventStreamOptions options, IHostApplicationLifetime lifetime, HttpContext context) =>
        {
            long? lastId = long.TryParse(context.Request.Headers["Last-Event-ID"], out var id) ? id : null;
            if (hub.Subscribe(lastId) is not { } channel)
            {
                return Problems.Result(StatusCodes.Status503ServiceUnavailable, $"already {EventHub.MaxSubscribers} event streams; try again later");
            }
            await StreamAsync(hub, channel, options, context, lifetime.ApplicationStopping);
            return Results.Empty;
        });
        v1.MapGet("/reconcile", (ReconcileService reconciler) => TypedResults.Ok(reconciler.View));
        v1.MapPost("/reconcile", async (ReconcileService reconciler) => TypedResults.Ok(await reconciler.RunNowAsync()));
        v1.MapGet("/openapi.json", () => TypedResults.Bytes(s_openApi.Value, "application/json"));
        v1.MapPost("/groups/{name}/start", (ManagedHost host, HostView view, string name) => TypedResults.Ok(Changed(view, host.Provisioning.StartGroup(name))));
        v1.MapPost("/groups/{name}/stop", (ManagedHost host, HostView view, string name) => TypedResults.Ok(Changed(view, host.Provisioning.StopGroup(name))));
    }

    // A subscriber's events as server-sent events with their ids, until the client goes, the hub lets it go or the
    // agent stops (the stream then ends cleanly and the client resumes elsewhere or later). The headers go out at
    // once, so a client knows it is subscribed before the first event; a stream silent for a heartbeat gets a comment.
    private static async Task StreamAsync(EventHub hub, Channel<AgentEvent> channel, EventStreamOptions options, HttpContext context, CancellationToken stopping)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var (cancellation, body) = (ended.Token, context.Response.Body);
        try
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            await body.FlushAsync(cancellation);
            while (await WaitOrHeartbeatAsync(channel.Reader, options.Heartbeat, cancellation) is { } more)
            {
                if (!more)
                {
                    await body.WriteAsync(s_keepalive, cancellation);
                    await body.FlushAsync(cancellation);
                    continue;
                }
                var ready = new List<AgentEvent>();
                while (channel.Reader.TryRead(out var published))
                {
                    ready.Add(published);
                }
                await SseFormatter.WriteAsync(ready.Select(Item).ToAsyncEnumerable(), body, static (item, buffer) =>
                {
                    using var writer = new Utf8JsonWriter(buffer);
                    JsonSerializer.Serialize(writer, item.Data, AgentJson.Default.AgentEvent);
                }, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The client went away, or the agent is stopping: that is how a stream ends.
        }
        finally
        {
            hub.Unsubscribe(channel);
        }
    }

    private static readonly byte[] s_keepalive = ": keepalive\n\n"u8.ToArray();

    // True when events are ready, false when the heartbeat came first, null when the hub let the subscriber go.
    // Abandoning a wait on a channel takes nothing from it.
    private static async Task<bool?> WaitOrHeartbeatAsync(ChannelReader<AgentEvent> reader, TimeSpan heartbeat, CancellationToken cancellation)
    {
        using var beat = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        beat.CancelAfter(heartbeat);
        try
        {
            return await reader.WaitToReadAsync(beat.Token) ? true : null;
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return false;
        }
    }

    // The events-lost of a resume is no event of the hub's and has no id: the client's last id stays what it was.
    private static SseItem<AgentEvent> Item(AgentEvent published) =>
        new(published, published.Type) { EventId = published.Id == 0 ? null : published.Id.ToString(CultureInfo.InvariantCulture) };


    // The devices a group start or stop changed, read into the view.
    private static IReadOnlyList<Guid> Changed(HostView view, IReadOnlyList<Guid> devices)
    {
        view.Refresh(devices.Select(uuid => new HostChange.DeviceChanged(uuid, null)));
        return devices;
    }

    private static IResult NotFound(string detail) => Problems.Result(StatusCodes.Status404NotFound, detail);

    // The whole body as strict UTF-8: a configuration with broken text is refused, never guessed at.
    private static async Task<string> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        try
        {
            return s_strictUtf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw new BadRequestException("the request body is not valid UTF-8");
        }
    }
}
