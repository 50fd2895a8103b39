using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Mdevkit.Agent.Tests;

/// <summary>One event of <c>/v1/events</c>: its type, id and data.</summary>
internal sealed record Received(string Type, string Id, JsonElement Data);

/// <summary>
/// An open <c>/v1/events</c> stream, read event by event; every read waits at most a minute, so a missing event
/// fails the test by name, and disposing cuts the stream even under a read still waiting.
/// </summary>
internal sealed class EventStream(HttpResponseMessage response, IAsyncEnumerator<SseItem<string>> items) : IAsyncDisposable
{
    public HttpResponseMessage Response => response;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static async Task<EventStream> OpenAsync(HttpClient client, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancellation);
        var stream = await response.Content.ReadAsStreamAsync(Cancellation);
        return new EventStream(response, SseParser.Create(stream).EnumerateAsync(Cancellation).GetAsyncEnumerator(Cancellation));
    }

    private readonly List<string> _seen = [];

    // The next event of another type: a new parent directory's definition may be told twice (once read
    // when the directory appears, once by the watch added on it), which is harmless to a client.
    public async Task<Received> NextOtherThanAsync(string type)
    {
        Received next;
        while ((next = await NextAsync()).Type == type)
        {
        }
        return next;
    }

    public async Task<Received> NextAsync()
    {
        bool more;
        try
        {
            more = await items.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60), Cancellation);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no event within a minute; the stream had: {string.Join(", ", _seen)}");
        }
        Assert.True(more, "the stream ended");
        _seen.Add(items.Current.EventType);
        return new Received(items.Current.EventType, items.Current.EventId!, JsonDocument.Parse(items.Current.Data).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        response.Dispose();
        try
        {
            await items.DisposeAsync();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
        {
            // The stream was cut under the parser (or under a read still waiting): that is how a client leaves.
        }
    }
}
