using System.Net;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mdevkit.Management.Events;

/// <summary>An event as it came: parsed, and its JSON text as the agent sent it.</summary>
public sealed record ReceivedEvent(AgentEvent Event, string Json);

/// <summary>
/// A client of the agent's <c>/v1/events</c> on its Unix socket: follows the stream for as long as the caller reads it,
/// and when the agent goes away (a restart, an upgrade) waits for it and resumes with <c>Last-Event-ID</c>, so nothing
/// it kept is missed and what it could not keep is told as <c>events-lost</c>.
/// </summary>
public sealed class AgentEventStream : IDisposable
{
    private readonly string _socket;
    private readonly TimeSpan _retry;
    private readonly HttpClient _client;

    /// <param name="socket">The agent's socket.</param>
    /// <param name="retry">How long to wait between attempts to reach an agent that went away.</param>
    public AgentEventStream(string socket, TimeSpan retry)
    {
        _socket = socket;
        _retry = retry;
        _client = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = (_, cancellation) => UnixSocketStreams.ConnectAsync(socket, cancellation),
        })
        {
            BaseAddress = new Uri("http://mdevkitd"),
            // A stream stays open for as long as it is followed.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>
    /// The events, in order, until <paramref name="cancellation"/>; <paramref name="notice"/> hears when the stream is
    /// open, lost and found again (one line each, for a person).
    /// </summary>
    /// <exception cref="MdevctlException">No agent listens on the socket at the start, or the agent refused the stream.</exception>
    public async IAsyncEnumerable<ReceivedEvent> FollowAsync(Action<string> notice, [EnumeratorCancellation] CancellationToken cancellation)
    {
        string? lastId = null;
        var resuming = false;
        while (!cancellation.IsCancellationRequested)
        {
            var stream = await OpenAsync(lastId, mustBeThere: !resuming, cancellation);
            if (stream is null)
            {
                await Task.Delay(_retry, cancellation);
                continue;
            }
            notice(resuming ? $"mdevkitd is back on {_socket}; resuming after event {lastId}" : $"following mdevkitd on {_socket}");
            using (stream)
            {
                var items = SseParser.Create(stream, static (_, data) => Encoding.UTF8.GetString(data)).EnumerateAsync(cancellation).GetAsyncEnumerator(cancellation);
                await using (items)
                {
                    while (await NextAsync(items, cancellation))
                    {
                        lastId = items.Current.EventId ?? lastId;
                        yield return new ReceivedEvent(Parse(items.Current.Data), items.Current.Data);
                    }
                }
            }
            if (!cancellation.IsCancellationRequested)
            {
                notice($"mdevkitd on {_socket} ended the stream; waiting for it");
                resuming = true;
            }
        }
    }

    public void Dispose() => _client.Dispose();

    // The stream, or null when the agent is not there yet and that is expected (it restarts).
    private async Task<Stream?> OpenAsync(string? lastId, bool mustBeThere, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        if (lastId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastId);
        }
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException socket)
        {
            var absent = socket.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable;
            if (absent && !mustBeThere)
            {
                return null;
            }
            throw absent ? new MdevctlException($"no mdevkitd is listening on {_socket}")
                : socket.SocketErrorCode is SocketError.AccessDenied ? new MdevctlException($"cannot connect to mdevkitd on {_socket}", $"{socket.Message}: members of its group (mdevkit) may")
                : new MdevctlException($"cannot connect to mdevkitd on {_socket}", socket.Message);
        }
        catch (HttpRequestException e)
        {
            // Told in our words: the runtime's own messages are resource keys in the trimmed binary.
            throw new MdevctlException($"cannot talk to mdevkitd on {_socket}", e.HttpRequestError switch
            {
                HttpRequestError.ResponseEnded => "the agent closed the connection",
                HttpRequestError.InvalidResponse => "the answer is not HTTP",
                _ => "the connection failed",
            });
        }
        if (response.StatusCode != HttpStatusCode.OK)
        {
            using (response)
            {
                var detail = await ProblemDetailAsync(response, cancellation);
                throw new MdevctlException($"mdevkitd on {_socket} refused the event stream ({(int)response.StatusCode}){(detail is null ? "" : $": {detail}")}");
            }
        }
        return await response.Content.ReadAsStreamAsync(cancellation);
    }

    // The next event; false when the stream ended or broke (the agent went), which is where resuming starts.
    private static async Task<bool> NextAsync(IAsyncEnumerator<SseItem<string>> items, CancellationToken cancellation)
    {
        try
        {
            return await items.MoveNextAsync();
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellation.IsCancellationRequested)
        {
            return false;
        }
    }

    private AgentEvent Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, EventsJson.Default.AgentEvent) ?? throw new JsonException();
        }
        catch (JsonException)
        {
            throw new MdevctlException($"mdevkitd on {_socket} sent an event that is not one: {json}");
        }
    }

    private static async Task<string?> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation));
            return problem.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

// The agent writes events with the web's defaults (camelCase names); read them the same way, without reflection.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AgentEvent))]
internal sealed partial class EventsJson : JsonSerializerContext;
