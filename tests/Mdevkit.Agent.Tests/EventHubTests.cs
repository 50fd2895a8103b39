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
        for (var i = 0; i < EventHub.Kept + 10; i++)
        {
            _hub.Publish("device-added");
        }

        var resumed = _hub.Subscribe(5)!;
        var recent = _hub.Subscribe(EventHub.Kept + 8)!;

        Assert.True(resumed.Reader.TryRead(out var first));
        Assert.Equal("events-lost", first.Type);
        Assert.True(resumed.Reader.TryRead(out var oldestKept));
        Assert.Equal(11, oldestKept.Id);
        Assert.True(recent.Reader.TryRead(out var missed));
        Assert.Equal((EventHub.Kept + 9, "device-added"), (missed.Id, missed.Type));
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
