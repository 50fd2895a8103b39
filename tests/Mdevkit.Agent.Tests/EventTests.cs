using System.Net;

namespace Mdevkit.Agent.Tests;

/// <summary><c>/v1/events</c>: the kernel's changes (through udev's netlink messages) and definitions' changes, live and resumable.</summary>
public sealed class EventTests : IAsyncLifetime
{
    private const string Uuid = "7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c003";
    private AgentFixture _agent = null!;

    // A short heartbeat, so a test sees one; the parser skips its comments in the others.
    public async ValueTask InitializeAsync() =>
        _agent = await AgentFixture.StartAsync(owner: nameof(EventTests), configure: options => options with { Heartbeat = TimeSpan.FromMilliseconds(200) });

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KernelAndDefinitionChanges_ReachTheStream_InOrder()
    {
        await using var events = await EventStream.OpenAsync(_agent.Client);
        var create = Path.Join(_agent.Root.Sys, "class/mdev_bus/mtty/mdev_supported_types/mtty-1/create");

        using var defined = await _agent.Client.PutAsync($"/v1/definitions/mtty/{Uuid}", new StringContent("""{"mdev_type":"mtty-1","start":"manual"}"""), Cancellation);
        var definition = await events.NextAsync();
        await File.WriteAllTextAsync(create, Uuid, Cancellation);
        var added = await events.NextOtherThanAsync("definition-changed");
        await File.WriteAllTextAsync(Path.Join(_agent.Root.Sys, $"bus/mdev/devices/{Uuid}/remove"), "1", Cancellation);
        var removed = await events.NextAsync();
        Assert.Equal(0, (int)_agent.Simulator.Host.Unplug("mdpy"));
        var unregistered = await events.NextAsync();

        Assert.Equal(HttpStatusCode.Created, defined.StatusCode);
        Assert.Equal(("definition-changed", Uuid, "mtty"), (definition.Type, definition.Data.GetProperty("uuid").GetString(), definition.Data.GetProperty("parent").GetString()));
        Assert.Equal(("device-added", Uuid, "mtty", "add"), (added.Type, added.Data.GetProperty("uuid").GetString(), added.Data.GetProperty("parent").GetString(), added.Data.GetProperty("properties").GetProperty("ACTION").GetString()));
        Assert.Equal(("device-removed", Uuid), (removed.Type, removed.Data.GetProperty("uuid").GetString()));
        Assert.Equal(("parent-unregistered", "mdpy"), (unregistered.Type, unregistered.Data.GetProperty("parent").GetString()));
        var ids = new[] { definition, added, removed, unregistered }.Select(received => long.Parse(received.Id, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids.Order(), ids);
    }

    [Fact]
    public async Task Resume_WithLastEventId_GetsWhatWasMissedFirst()
    {
        string firstId;
        await using (var first = await EventStream.OpenAsync(_agent.Client))
        {
            Assert.Equal(0, (int)_agent.Simulator.Host.Unplug("mdpy"));
            firstId = (await first.NextAsync()).Id;
        }
        Assert.Equal(0, (int)_agent.Simulator.Host.Unplug("mbochs"));
        Assert.Equal(0, (int)_agent.Simulator.Host.Plug("mdpy"));

        await using var resumed = await EventStream.OpenAsync(_agent.Client, firstId);
        var missed = await resumed.NextAsync();
        var next = await resumed.NextAsync();

        Assert.Equal(("parent-unregistered", "mbochs"), (missed.Type, missed.Data.GetProperty("parent").GetString()));
        Assert.Equal(("parent-registered", "mdpy"), (next.Type, next.Data.GetProperty("parent").GetString()));
    }

    [Fact]
    public async Task SilentStream_GetsKeepaliveComments()
    {
        using var response = await _agent.Client.GetAsync("/v1/events", HttpCompletionOption.ResponseHeadersRead, Cancellation);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancellation));

        var lines = new List<string?>();
        for (var i = 0; i < 4; i++)
        {
            lines.Add(await reader.ReadLineAsync(Cancellation).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Cancellation));
        }

        Assert.Equal([": keepalive", "", ": keepalive", ""], lines);
    }

    [Fact]
    public async Task TooManyStreams_TheNextIsRefusedWith503()
    {
        var open = new List<EventStream>();
        try
        {
            for (var i = 0; i < EventHub.MaxSubscribers; i++)
            {
                open.Add(await EventStream.OpenAsync(_agent.Client));
            }
            await using var refused = await EventStream.OpenAsync(_agent.Client);

            Assert.All(open, stream => Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Response.StatusCode);
        }
        finally
        {
            foreach (var stream in open)
            {
                await stream.DisposeAsync();
            }
        }
    }
}
