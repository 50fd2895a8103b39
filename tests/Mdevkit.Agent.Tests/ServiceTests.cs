using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Mdevkit.Agent.Tests;

/// <summary>The agent as a service: its socket, its metrics.</summary>
public sealed partial class ServiceTests : IAsyncLifetime
{
    private const string Uuid = "7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c002";
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync() => _agent = await AgentFixture.StartAsync(owner: nameof(ServiceTests));

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public void Socket_IsForItsOwnerAndGroupOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(_agent.Socket));
    }

    [Fact]
    public void SecondAgentOnTheSameSocket_IsRefused()
    {
        var refused = Assert.Throws<AgentException>(() => AgentApp.Build(new AgentOptions(_agent.Root.Directory, _agent.Socket)));

        Assert.Equal($"another mdevkitd is serving {_agent.Socket}", refused.Message);
    }

    [Fact]
    public async Task StaleSocket_OfAKilledAgent_IsReplaced()
    {
        var stale = Path.Join(_agent.Root.RunDirectory, "stale.sock");
        // Bound and closed without unlinking: the file a killed process leaves behind.
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(stale));
        }

        await using var agent = AgentApp.Build(new AgentOptions(_agent.Root.Directory, stale));
        await agent.StartAsync(Cancellation);
        using var client = AgentFixture.ClientFor(stale);
        using var answer = await client.GetAsync("/v1/groups", Cancellation);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await agent.StopAsync(Cancellation);
    }

    [Fact]
    public async Task Metrics_FollowTheHost_AndDropAParentThatIsGone()
    {
        using var define = await _agent.Client.PutAsync($"/v1/definitions/mtty/{Uuid}", new StringContent("""{"mdev_type":"mtty-2","start":"manual"}"""), Cancellation);
        using var start = await _agent.Client.PostAsync($"/v1/devices/{Uuid}/start", null, Cancellation);
        var before = await ScrapeAsync();
        Assert.Equal(0, (int)_agent.Simulator.Host.Unplug("mtty"));
        var after = await ScrapeAsync();

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK), (define.StatusCode, start.StatusCode));
        var available = File.ReadAllText(Path.Join(_agent.Root.Directory, "sys/class/mdev_bus/mdpy/mdev_supported_types/mdpy-vga/available_instances")).Trim();
        Assert.Equal(double.Parse(available, CultureInfo.InvariantCulture), before[("mdevkit_available_instances", """parent="mdpy",type="mdpy-vga" """.Trim())]);
        Assert.Equal(1, before[("mdevkit_devices", """parent="mtty",type="mtty-2",state="active" """.Trim())]);
        Assert.Equal(1, before[("mdevkit_devices", """parent="mtty",type="mtty-2",state="defined" """.Trim())]);
        Assert.Equal(1, before[("mdevkitd_request_duration_seconds_count", """method="POST",route="/v1/devices/{uuid:guid}/start",status="200" """.Trim())]);
        Assert.Equal(0, before[("mdevkit_scrape_error", "")]);
        Assert.DoesNotContain(after.Keys, key => key.Name == "mdevkit_available_instances" && key.Labels.Contains("parent=\"mtty\"", StringComparison.Ordinal));
        Assert.Contains(after.Keys, key => key.Name == "mdevkit_available_instances" && key.Labels.Contains("parent=\"mdpy\"", StringComparison.Ordinal));
    }

    // Every sample of a scrape in the text format: `name{labels} value`, comments checked for their shape.
    private async Task<Dictionary<(string Name, string Labels), double>> ScrapeAsync()
    {
        var text = await _agent.Client.GetStringAsync("/metrics", Cancellation);
        var samples = new Dictionary<(string, string), double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(@"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", line);
                continue;
            }
            var sample = Sample().Match(line);
            Assert.True(sample.Success, $"not a sample: {line}");
            samples.Add((sample.Groups["name"].Value, sample.Groups["labels"].Value), double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture));
        }
        return samples;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*)\})? (?<value>\S+)$""")]
    private static partial Regex Sample();
}
