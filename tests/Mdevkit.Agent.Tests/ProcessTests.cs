using System.Net;
using Mdevkit.TestSupport;

namespace Mdevkit.Agent.Tests;

/// <summary>The <c>mdevkitd</c> executable as a service manager runs it: readiness, graceful stop, one-line errors.</summary>
public sealed class ProcessTests : IAsyncLifetime
{
    private AgentFixture _simulator = null!;

    // The fixture's own agent is not needed here; its simulated host is.
    public async ValueTask InitializeAsync() => _simulator = await AgentFixture.StartAsync(owner: nameof(ProcessTests));

    public ValueTask DisposeAsync() => _simulator.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Service_SaysReadyWhenItServes_AndStopsCleanlyOnSigterm()
    {
        var socket = Path.Join(_simulator.Root.RunDirectory, "process.sock");
        await using var service = await AgentProcess.StartAsync(Path.Join(_simulator.Root.RunDirectory, "notify.sock"), "--root", _simulator.Root.Directory, "--socket", socket);

        using var client = AgentFixture.ClientFor(socket);
        using var answer = await client.GetAsync("/v1/parents", Cancellation);
        service.Process.Signal("TERM");
        var stopping = await service.NotificationAsync();
        var exitCode = await service.Process.ExitAsync();

        Assert.Equal((HttpStatusCode.OK, "STOPPING=1"), (answer.StatusCode, stopping));
        Assert.True(exitCode == 0, service.Process.ToString());
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public async Task Sighup_RereadsTheTokens_AndTheAgentGoesOn()
    {
        var configuration = Tokens.Write(_simulator.Root.Directory, Tokens.Configuration());
        await using var service = await AgentProcess.StartAsync(Path.Join(_simulator.Root.RunDirectory, "notify.sock"),
            "--root", _simulator.Root.Directory, "--socket", Path.Join(_simulator.Root.RunDirectory, "process.sock"), "--config", configuration);
        using var client = new HttpClient { BaseAddress = await service.TcpAddressAsync() };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Tokens.Admin);

        using var before = await client.GetAsync("/v1/groups", Cancellation);
        Tokens.Write(_simulator.Root.Directory, Tokens.Configuration(withAdmin: false));
        service.Process.Signal("HUP");
        await service.Process.NextOutputAsync(line => line.Contains($"reloaded {configuration}", StringComparison.Ordinal));
        using var after = await client.GetAsync("/v1/groups", Cancellation);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (before.StatusCode, after.StatusCode));
    }

    [Fact]
    public void TcpWithoutTokens_IsRefused()
    {
        var configuration = Tokens.Write(_simulator.Root.Directory, """{"listen": ["127.0.0.1:0"]}""");

        var result = CommandRunner.Run(AgentProcess.Executable, ["--root", _simulator.Root.Directory, "--socket", Path.Join(_simulator.Root.RunDirectory, "refused.sock")]);

        Assert.Equal((1, $"Error: TCP is configured (127.0.0.1:0) but {configuration} has no tokens or clientCertificates: every TCP client must authenticate\n"), (result.ExitCode, result.Error));
    }

    public static TheoryData<string[], int, string> BadCommandLines => new()
    {
        { ["--root", "/nonexistent/root"], 1, "Error: --root /nonexistent/root does not exist\n" },
        { ["--bogus"], 2, "Error: Unrecognized command or argument '--bogus'.\n" },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public void BadCommandLine_GetsOneErrorLine(string[] arguments, int exitCode, string error)
    {
        var result = CommandRunner.Run(AgentProcess.Executable, arguments);

        Assert.Equal((exitCode, "", error), (result.ExitCode, result.Output, result.Error));
    }
}
