using Mdevkit.Management.Events;

namespace Mdevkit.Agent.Tests;

/// <summary>The hub's bounds: a slow subscriber is let go, a resume older than what is kept is told so.</summary>
public sealed class EventHubTests
{
    private readonly EventHub _hub = new(TimeProvider.System);

    [Fact]
    public async Task SlowSubscriber_PastItsQueue_IsLetGo_AndTheOthersGoOn()
    {
        var slow = _hub.Subscribe(null)!;
        var reader = _hub.Subscribe(null)!;

        for (var i = 0; i <= EventHub.SubscriberQueue; i++)
        {
            _hub.Publish("device-added");
            Assert.True(reader.Reader.TryRead(out _));
        }

        var kept = new List<AgentEvent>();
        await foreach (var queued in slow.Reader.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            kept.Add(queued);
        }
        Assert.Equal(EventHub.SubscriberQueue, kept.Count);
        Assert.False(reader.Reader.Completion.IsCompleted);
    }

    [Fact]
    public void Resume_OlderThanWhatIsKept_StartsWithEventsLost()
    {
        var first = _hub.Publish("device-added").Id;
        for (var i = 1; i < EventHub.Kept + 10; i++)
        {
            _hub.Publish("device-added");
        }

        var resumed = _hub.Subscribe(first + 4)!;
        var recent = _hub.Subscribe(first + EventHub.Kept + 7)!;

        Assert.True(resumed.Reader.TryRead(out var lost));
        Assert.Equal((0, "events-lost"), (lost.Id, lost.Type));
        Assert.True(resumed.Reader.TryRead(out var oldestKept));
        Assert.Equal(first + 10, oldestKept.Id);
        Assert.True(recent.Reader.TryRead(out var missed));
        Assert.Equal((first + EventHub.Kept + 8, "device-added"), (missed.Id, missed.Type));
    }

    [Fact]
    public void Resume_FromAnAgentBeforeARestart_StartsWithEventsLost_ThenEverythingOfThisOne()
    {
        var before = new EventHub(new FixedTime(DateTimeOffset.UnixEpoch.AddDays(1)));
        var lastBefore = Enumerable.Range(0, 3).Select(_ => before.Publish("device-added").Id).Last();
        var after = new EventHub(new FixedTime(DateTimeOffset.UnixEpoch.AddDays(1).AddSeconds(2)));
        var empty = after.Subscribe(lastBefore)!;
        var published = after.Publish("parent-registered");

        var resumed = after.Subscribe(lastBefore)!;
        var current = after.Subscribe(published.Id)!;

        Assert.True(published.Id > lastBefore);
        Assert.Equal(["events-lost", "parent-registered"], Queued(empty));
        Assert.Equal(["events-lost", "parent-registered"], Queued(resumed));
        Assert.Empty(Queued(current));
    }

    private static List<string> Queued(System.Threading.Channels.Channel<AgentEvent> channel)
    {
        var types = new List<string>();
        while (channel.Reader.TryRead(out var queued))
        {
            types.Add(queued.Type);
        }
        return types;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public void Subscribers_AreBounded()
    {
        for (var i = 0; i < EventHub.MaxSubscribers; i++)
        {
            Assert.NotNull(_hub.Subscribe(null));
        }

        Assert.Null(_hub.Subscribe(null));
    }
}
