using Microsoft.AspNetCore.Builder;
using System.Net.Sockets;
using Mdevkit.SimHost;
using Mdevkit.Simulation.Profiles;
using Mdevkit.TestSupport;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// A simulated host served through its real FUSE mount, and the agent over its root in this process,
/// listening on its real Unix socket; <see cref="Client"/> talks HTTP to that socket.
/// </summary>
public sealed class AgentFixture : IAsyncDisposable
{
    private readonly TempRoot _scratch;
    private readonly SimService _simulator;

    private AgentFixture(TempRoot scratch, SimService simulator, WebApplication agent, string socket)
    {
        _scratch = scratch;
        _simulator = simulator;
        Agent = agent;
        Socket = socket;
        Client = ClientFor(socket);
    }

    public SimService Simulator => _simulator;

    public SimRoot Root => _simulator.Root;

    public WebApplication Agent { get; }

    public string Socket { get; }

    public HttpClient Client { get; }

    /// <summary>The agent's TCP address, when its configuration has one.</summary>
    public Uri TcpAddress => new(Assert.Single(Agent.Urls, url => !url.Contains("unix:", StringComparison.Ordinal)));

    /// <summary>Starts the simulator and the agent; <paramref name="configure"/> may write the root's files and change the options first.</summary>
    public static Task<AgentFixture> StartAsync(string profile = "samples", string owner = nameof(AgentFixture), Func<AgentOptions, AgentOptions>? configure = null) =>
        StartAsync(HostProfile.Load(profile), owner, configure);

    /// <summary>Starts a simulator of <paramref name="profile"/> and the agent over it.</summary>
    public static async Task<AgentFixture> StartAsync(HostProfile profile, string owner, Func<AgentOptions, AgentOptions>? configure = null)
    {
        var scratch = new TempRoot(owner);
        var simulator = SimService.Start(profile, new SimRoot(scratch.Join("root")), TextWriter.Null, ["false"]);
        try
        {
            var options = new AgentOptions(simulator.Root.Directory, Mdevkit.Management.MdevkitPaths.AgentSocketBelow(simulator.Root.Directory));
            options = configure?.Invoke(options) ?? options;
            var agent = AgentApp.Build(options);
            await agent.StartAsync(TestContext.Current.CancellationToken);
            return new AgentFixture(scratch, simulator, agent, options.Socket);
        }
        catch
        {
            simulator.Dispose();
            scratch.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP client whose every connection goes to a Unix socket.</summary>
    public static HttpClient ClientFor(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellation) =>
        {
            var connection = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellation);
            return new NetworkStream(connection, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://mdevkitd") };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Agent.StopAsync();
        await Agent.DisposeAsync();
        _simulator.Dispose();
        _scratch.Dispose();
    }
}
