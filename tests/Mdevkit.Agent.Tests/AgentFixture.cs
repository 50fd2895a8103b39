using Microsoft.AspNetCore.Builder;
using Mdevkit.SimHost;
using Mdevkit.Simulation.Profiles;
using Mdevkit.TestSupport;

namespace Mdevkit.Agent.Tests;

/// <summary>A simulated host served through its real FUSE mount in this process, in a fresh root.</summary>
public sealed class SimulatedHostRoot : IDisposable
{
    private readonly TempRoot _scratch;

    public SimulatedHostRoot(string profile, string owner)
        : this(HostProfile.Load(profile), owner)
    {
    }

    public SimulatedHostRoot(HostProfile profile, string owner)
    {
        _scratch = new TempRoot(owner);
        try
        {
            Simulator = SimService.Start(profile, new SimRoot(_scratch.Join("root")), TextWriter.Null, ["false"]);
        }
        catch
        {
            _scratch.Dispose();
            throw;
        }
    }

    public SimService Simulator { get; }

    public SimRoot Root => Simulator.Root;

    /// <summary>A path below the simulated root.</summary>
    public string Join(string relative) => Path.Join(Root.Directory, relative);

    public void Dispose()
    {
        Simulator.Dispose();
        _scratch.Dispose();
    }
}

/// <summary>
/// A simulated host served through its real FUSE mount, and the agent over its root in this process,
/// listening on its real Unix socket; <see cref="Client"/> talks HTTP to that socket.
/// </summary>
public sealed class AgentFixture : IAsyncDisposable
{
    private readonly SimulatedHostRoot _host;

    private AgentFixture(SimulatedHostRoot host, WebApplication agent, string socket)
    {
        _host = host;
        Agent = agent;
        Socket = socket;
        Client = ClientFor(socket);
    }

    public SimService Simulator => _host.Simulator;

    public SimRoot Root => _host.Root;

    /// <summary>A path below the simulated root.</summary>
    public string Join(string relative) => _host.Join(relative);

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
        var host = new SimulatedHostRoot(profile, owner);
        try
        {
            var options = new AgentOptions(host.Root.Directory, Mdevkit.Management.MdevkitPaths.AgentSocketBelow(host.Root.Directory));
            options = configure?.Invoke(options) ?? options;
            var agent = AgentApp.Build(options);
            await agent.StartAsync(TestContext.Current.CancellationToken);
            return new AgentFixture(host, agent, options.Socket);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP client whose every connection goes to a Unix socket.</summary>
    public static HttpClient ClientFor(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = (_, cancellation) => Mdevkit.Management.UnixSocketStreams.ConnectAsync(socket, cancellation),
    })
    { BaseAddress = new Uri("http://mdevkitd") };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Agent.StopAsync();
        await Agent.DisposeAsync();
        _host.Dispose();
    }
}
