using System.Net.Sockets;

namespace Mdevkit.Management;

/// <summary>Connections to a Unix socket, for HTTP and gRPC clients whose every connection goes there.</summary>
public static class UnixSocketStreams
{
    /// <summary>Connects to the socket at <paramref name="path"/>; the stream owns the connection.</summary>
    /// <exception cref="SocketException">Nothing listens there.</exception>
    public static async ValueTask<Stream> ConnectAsync(string path, CancellationToken cancellation)
    {
        var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await connection.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellation);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return new NetworkStream(connection, ownsSocket: true);
    }
}
