using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Mdevkit.TestSupport;

/// <summary>
/// A TCP port on 127.0.0.1 whose every connection is carried, byte for byte, to a new connection on a Unix
/// socket: for clients that speak only TCP, such as a browser, to reach a server that listens on a socket.
/// </summary>
public sealed class UnixSocketBridge : IAsyncDisposable
{
    private readonly string _socket;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _accepting;

    public UnixSocketBridge(string socket)
    {
        _socket = socket;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>The bridge's address, such as <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var carrying = CarryAsync(client);
            _connections.TryAdd(carrying, 0);
            _ = carrying.ContinueWith(done => _connections.TryRemove(done, out _), TaskScheduler.Default);
        }
    }

    // Both directions until either side closes; then both close, as a direct connection would.
    private async Task CarryAsync(TcpClient client)
    {
        using var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await unix.ConnectAsync(new UnixDomainSocketEndPoint(_socket), _stop.Token);
            var browser = client.GetStream();
            using var server = new NetworkStream(unix, ownsSocket: false);
            var up = browser.CopyToAsync(server, _stop.Token);
            var down = server.CopyToAsync(browser, _stop.Token);
            await Task.WhenAny(up, down);
            // Closing both sockets ends the other direction's copy too.
            client.Dispose();
            unix.Dispose();
            await Task.WhenAll(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A side went away mid-copy, or the bridge is stopping: the connection ends, as it would without the bridge.
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_connections.Keys);
        _stop.Dispose();
    }
}
