using System.Threading.Channels;
using Mdevkit.Management.Events;

namespace Mdevkit.Agent;

/// <summary>
/// The one place events meet: sources publish, each subscriber gets them in order from its own bounded
/// queue. The last <see cref="Kept"/> events are kept for clients that resume. A subscriber that falls
/// <see cref="SubscriberQueue"/> events behind is let go (its stream ends; it resumes with <c>Last-Event-ID</c>),
/// so a slow client never holds memory or the others back.
/// </summary>
internal sealed class EventHub(TimeProvider time)
{
    public const int Kept = 1024;
    public const int SubscriberQueue = 256;
    public const int MaxSubscribers = 64;

    private readonly Lock _lock = new();
    private readonly Queue<AgentEvent> _recent = new();
    private readonly List<Channel<AgentEvent>> _subscribers = [];
    private readonly List<Action<AgentEvent>> _observers = [];

    // A client that resumes after a restart holds an id of the agent before: it is lower than any of this one's, so
    // it gets all of them, after an events-lost for what happened while no agent listened.
    private long _lastId = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000 - 1;

    /// <summary>
    /// Tells <paramref name="observer"/> of every event as it is published, in order, on the publisher's thread: for
    /// the agent's own parts, which must not block and do not count against the streams' limit.
    /// </summary>
    public void Observe(Action<AgentEvent> observer)
    {
        lock (_lock)
        {
            _observers.Add(observer);
        }
    }

    public AgentEvent Publish(string type, Guid? uuid = null, string? parent = null, IReadOnlyDictionary<string, string>? properties = null)
    {
        lock (_lock)
        {
            var published = new AgentEvent(++_lastId, type, time.GetUtcNow(), uuid, parent, properties);
            _recent.Enqueue(published);
            if (_recent.Count > Kept)
            {
                _recent.Dequeue();
            }
            foreach (var subscriber in _subscribers.Where(subscriber => !subscriber.Writer.TryWrite(published)).ToList())
            {
                subscriber.Writer.TryComplete();
                _subscribers.Remove(subscriber);
            }
            foreach (var observer in _observers)
            {
                observer(published);
            }
            return published;
        }
    }

    /// <summary>A new subscriber's queue, starting after <paramref name="lastId"/> (with the kept events after it), or null when there are too many.</summary>
    public Channel<AgentEvent>? Subscribe(long? lastId)
    {
        lock (_lock)
        {
            if (_subscribers.Count >= MaxSubscribers)
            {
                return null;
            }
            var missed = lastId is { } last ? _recent.Where(recent => recent.Id > last).ToList() : [];
            // Some of what the client missed is no longer kept, or happened before this agent started: it must read the state again.
            var firstKept = _recent.TryPeek(out var oldest) ? oldest.Id : _lastId + 1;
            if (lastId is { } resumed && firstKept > resumed + 1)
            {
                missed.Insert(0, new AgentEvent(0, "events-lost", time.GetUtcNow(), null, null, null));
            }
            var channel = Channel.CreateBounded<AgentEvent>(new BoundedChannelOptions(missed.Count + SubscriberQueue) { SingleReader = true });
            foreach (var replayed in missed)
            {
                channel.Writer.TryWrite(replayed);
            }
            _subscribers.Add(channel);
            return channel;
        }
    }

    public void Unsubscribe(Channel<AgentEvent> channel)
    {
        lock (_lock)
        {
            _subscribers.Remove(channel);
        }
    }
}

/// <summary>How event streams are served.</summary>
/// <param name="Heartbeat">How long a stream may stay silent before a <c>: keepalive</c> comment is sent.</param>
internal sealed record EventStreamOptions(TimeSpan Heartbeat);
