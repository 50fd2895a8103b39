using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mdevkit.Management;
using Mdevkit.Sysfs;

namespace Mdevkit.Agent;

/// <summary>A failure to start the agent, told in one line.</summary>
internal sealed class AgentException(string message) : Exception(message);

/// <summary>
/// The Unix socket the API listens on: a stale one left by a killed agent is replaced, a live one is
/// refused (two agents on one root would each think they own it), and the socket is 0660, group
/// <see cref="GroupName"/> when the machine has that group, so who may manage devices is a group membership.
/// </summary>
internal static class AgentSocket
{
    public const string GroupName = "mdevkit";

    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Makes the socket's directory and clears a stale socket.</summary>
    /// <exception cref="AgentException">Another agent serves the path, or it is not a socket.</exception>
    public static void Prepare(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, MdevkitPaths.SharedDirectoryMode);
        if (Directory.Exists(path))
        {
            throw new AgentException($"{path} is a directory, not a socket");
        }
        if (!File.Exists(path))
        {
            return;
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            throw new AgentException($"another mdevkitd is serving {path}");
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused)
        {
            // Nobody listens: what a killed agent leaves behind.
            File.Delete(path);
        }
        catch (SocketException e)
        {
            throw new AgentException($"{path} is in the way and is not a stale socket: {e.Message}");
        }
    }

    /// <summary>Sets the listening socket's mode and group.</summary>
    /// <exception cref="AgentException">The mode or group cannot be set.</exception>
    public static void Secure(string path)
    {
        File.SetUnixFileMode(path, Mode);
        if (GroupId(GroupName) is { } group && Native.Libc.chown(path, Native.Libc.KeepOwner, group) != 0)
        {
            throw new AgentException($"cannot give {path} to group {GroupName}: {SysfsException.Describe((Errno)Marshal.GetLastPInvokeError())}");
        }
    }

    // The machine's group database (not the served root's: the socket's users are this machine's).
    private static uint? GroupId(string name)
    {
        foreach (var line in File.Exists("/etc/group") ? File.ReadLines("/etc/group") : [])
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return id;
            }
        }
        return null;
    }
}
