using System.Text.Json;

namespace Mdevkit.Agent.Tests;

/// <summary><c>mdevkit events</c> against a real <c>mdevkitd</c> on a FUSE-mounted simulator: live lines, a restart resumed, Ctrl-C.</summary>
public sealed class EventsCommandTests : IAsyncLifetime
{
    private static readonly string s_mdevkit = Path.Join(AppContext.BaseDirectory, "mdevkit");
    private AgentFixture _simulator = null!;

    // The fixture's own agent is not the one followed; its simulated host is.
    public async ValueTask InitializeAsync() => _simulator = await AgentFixture.StartAsync(owner: nameof(EventsCommandTests));

    public ValueTask DisposeAsync() => _simulator.DisposeAsync();

    [Fact]
    public async Task Follow_PrintsEachEvent_ResumesAfterTheAgentRestarts_AndCtrlCEndsIt()
    {
        var socket = Path.Join(_simulator.Root.RunDirectory, "followed.sock");
        var notify = Path.Join(_simulator.Root.RunDirectory, "notify.sock");
        string[] agentArguments = ["--root", _simulator.Root.Directory, "--socket", socket];
        await using var first = await AgentProcess.StartAsync(notify, agentArguments);
        await using var human = RunningProcess.Start(s_mdevkit, ["events", "--socket", socket]);
        await using var json = RunningProcess.Start(s_mdevkit, ["events", "--root", _simulator.Root.Directory, "--socket", socket, "--json"]);
        foreach (var follower in new[] { human, json })
        {
            await follower.NextErrorAsync(line => line == $"following mdevkitd on {socket}");
        }

        Assert.Equal(0, (int)_simulator.Simulator.Host.Unplug("mdpy"));
        var unplugged = await human.NextOutputAsync();
        var unpluggedJson = JsonDocument.Parse(await json.NextOutputAsync()).RootElement;

        // The agent restarts; what happens while none listens is not told, and the followers say so.
        first.Process.Signal("TERM");
        Assert.Equal(0, await first.Process.ExitAsync());
        await human.NextErrorAsync(line => line == $"mdevkitd on {socket} ended the stream; waiting for it");
        Assert.Equal(0, (int)_simulator.Simulator.Host.Plug("mdpy"));
        await using var second = await AgentProcess.StartAsync(notify, agentArguments);
        await human.NextErrorAsync(line => line.StartsWith($"mdevkitd is back on {socket}; resuming after event ", StringComparison.Ordinal));
        var lost = await human.NextOutputAsync();
        Assert.Equal(0, (int)_simulator.Simulator.Host.Unplug("mbochs"));
        var afterRestart = await human.NextOutputAsync();
        human.Signal("INT");
        json.Signal("INT");

        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  parent-unregistered  mdpy$", unplugged);
        Assert.Equal(("parent-unregistered", "mdpy"), (unpluggedJson.GetProperty("type").GetString(), unpluggedJson.GetProperty("parent").GetString()));
        Assert.EndsWith("  events-lost: some changes were not told; read the state again", lost, StringComparison.Ordinal);
        Assert.EndsWith("  parent-unregistered  mbochs", afterRestart, StringComparison.Ordinal);
        Assert.True(await human.ExitAsync() == 0, human.ToString());
        Assert.True(await json.ExitAsync() == 0, json.ToString());
    }

    [Fact]
    public void NoAgent_IsOneErrorLine()
    {
        var socket = Path.Join(_simulator.Root.RunDirectory, "nobody.sock");

        var result = Mdevkit.TestSupport.CommandRunner.Run(s_mdevkit, ["events", "--socket", socket]);

        Assert.Equal((1, "", $"Error: no mdevkitd is listening on {socket}\n"), (result.ExitCode, result.Output, result.Error));
    }
}
