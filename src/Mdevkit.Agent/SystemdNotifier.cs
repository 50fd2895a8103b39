using System.Net.Sockets;
using System.Text;

namespace Mdevkit.Agent;

/// <summary>
/// Tells the service manager where the agent is (<c>Type=notify</c>): READY=1 once the socket serves,
/// STOPPING=1 when shutdown begins. Like libsystemd's <c>sd_notify</c>, it speaks whenever
/// <c>NOTIFY_SOCKET</c> is set, whoever the parent process is (a wrapper shell under systemd included).
/// </summary>
internal sealed class SystemdNotifier(IHostApplicationLifetime lifetime) : IHostedService
{
    public const string SocketVariable = "NOTIFY_SOCKET";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => Notify("READY=1"));
        lifetime.ApplicationStopping.Register(() => Notify("STOPPING=1"));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Notify(string state)
    {
        if (Environment.GetEnvironmentVariable(SocketVariable) is not { Length: > 0 } path)
        {
            return;
        }
        // A leading '@' names an abstract socket, which .NET spells with a NUL.
        var endpoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.SendTo(Encoding.UTF8.GetBytes(state), endpoint);
    }
}
