using System.Net.Sockets;

namespace Mdevkit.SimHost;

/// <summary>No simulator answers at a root.</summary>
public sealed class NotRunningException(SimRoot root)
    : SimException($"no simulator is running at {root.Directory} (start one with 'mdevkit sim up --root {root.Directory}')");

/// <summary>Talks to a running simulator over its control socket: one request line, a reply whose first line is "ok" or "error: …".</summary>
public static class SimControl
{
    /// <exception cref="SimException">No simulator answers at this root, or it refused the request.</exception>
    public static IReadOnlyList<string> Send(SimRoot root, string request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(root.Socket));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new SimException($"permission denied: cannot reach the simulator at {root.Directory} through {root.Socket}; its control socket is root's (run as root)");
        }
        catch (SocketException)
        {
            throw new NotRunningException(root);
        }
        using var stream = new NetworkStream(socket);
        using var writer = new StreamWriter(stream) { NewLine = "\n", AutoFlush = true };
        using var reader = new StreamReader(stream);
        writer.WriteLine(request);
        socket.Shutdown(SocketShutdown.Send);
        var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines is ["ok", .. var rest] ? rest : throw new SimException(lines.FirstOrDefault()?.Replace("error: ", "", StringComparison.Ordinal) ?? "the simulator did not answer");
    }

    /// <summary>Waits until the simulator at this root has unmounted and closed its socket (the last thing it does).</summary>
    /// <exception cref="SimException">It is still there after half a minute.</exception>
    public static void WaitUntilGone(SimRoot root)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (File.Exists(root.Socket))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new SimException($"the simulator at {root.Directory} did not stop within 30 s; see {root.Log}");
            }
            Thread.Sleep(20);
        }
    }
}
