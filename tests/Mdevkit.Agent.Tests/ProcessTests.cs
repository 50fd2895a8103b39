using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mdevkit.TestSupport;

namespace Mdevkit.Agent.Tests;

/// <summary>The <c>mdevkitd</c> executable as a service manager runs it: readiness, graceful stop, one-line errors.</summary>
public sealed class ProcessTests : IAsyncLifetime
{
    private static readonly string s_mdevkitd = Path.Join(AppContext.BaseDirectory, "mdevkitd");
    private AgentFixture _simulator = null!;

    // The fixture's own agent is not needed here; its simulated host is.
    public async ValueTask InitializeAsync() => _simulator = await AgentFixture.StartAsync(owner: nameof(ProcessTests));

    public ValueTask DisposeAsync() => _simulator.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Service_SaysReadyWhenItServes_AndStopsCleanlyOnSigterm()
    {
        var notify = Path.Join(_simulator.Root.RunDirectory, "notify.sock");
        var socket = Path.Join(_simulator.Root.RunDirectory, "process.sock");
        using var manager = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        manager.Bind(new UnixDomainSocketEndPoint(notify));
        var start = new ProcessStartInfo(s_mdevkitd) { RedirectStandardOutput = true, RedirectStandardError = true, Environment = { [SystemdNotifier.SocketVariable] = notify } };
        foreach (var argument in new[] { "--root", _simulator.Root.Directory, "--socket", socket })
        {
            start.ArgumentList.Add(argument);
        }
        using var service = Process.Start(start)!;
        var output = service.StandardOutput.ReadToEndAsync(Cancellation);
        var errors = service.StandardError.ReadToEndAsync(Cancellation);

        var ready = await ReceiveAsync(manager);
        using var client = AgentFixture.ClientFor(socket);
        using var answer = await client.GetAsync("/v1/parents", Cancellation);
        Assert.Equal(0, CommandRunner.Run("kill", ["-TERM", service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ExitCode);
        var stopping = await ReceiveAsync(manager);
        await service.WaitForExitAsync(Cancellation).WaitAsync(TimeSpan.FromSeconds(60), Cancellation);

        Assert.Equal(("READY=1", HttpStatusCode.OK, "STOPPING=1"), (ready, answer.StatusCode, stopping));
        Assert.True(service.ExitCode == 0, await errors + await output);
        Assert.False(File.Exists(socket));
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
        var result = CommandRunner.Run(s_mdevkitd, arguments);

        Assert.Equal((exitCode, "", error), (result.ExitCode, result.Output, result.Error));
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[256];
        var length = await socket.ReceiveAsync(buffer, Cancellation).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Cancellation);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
