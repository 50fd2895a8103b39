using System.Globalization;

namespace Mdevkit.Sysfs;

/// <summary>A process that has a device node open, as <c>/proc</c> shows it.</summary>
/// <param name="Pid">Its process id.</param>
/// <param name="Command">Its command name (<c>/proc/PID/comm</c>).</param>
/// <param name="Arguments">Its command line (<c>/proc/PID/cmdline</c>); none for a process that shows none.</param>
public sealed record NodeHolder(int Pid, string Command, IReadOnlyList<string> Arguments);

public sealed partial class SysfsRoot
{
    // The processes are the running system's under any root: a root is a tree of files (a mounted simulator's
    // dev/vfio among them), and a process that opens one of its nodes shows it in /proc like any other file.
    private const string Proc = "/proc";
    private const string VfioDevicesPrefix = "devices/vfio";

    /// <summary>
    /// Which process has each VFIO node below this root open: a group node <c>dev/vfio/N</c>, or a device's character
    /// device <c>dev/vfio/devices/vfioN</c>, as the <c>/proc/PID/fd</c> links of every process name them. Processes and
    /// descriptors that go while they are read, or that cannot be read, are left out.
    /// </summary>
    /// <returns>Node names below <c>dev/vfio</c> (<c>12</c>, <c>devices/vfio0</c>) → the process holding it with the lowest pid.</returns>
    public IReadOnlyDictionary<string, NodeHolder> GetVfioHolders()
    {
        var prefix = PathOf(SysfsPaths.VfioGroups) + "/";
        var holders = new Dictionary<string, NodeHolder>(StringComparer.Ordinal);
        var pids = ListNames(Proc).Select(name => int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0).Where(pid => pid > 0).Order();
        foreach (var pid in pids)
        {
            var fds = $"{Proc}/{pid}/fd";
            List<string> entries;
            try
            {
                entries = ListNames(fds);
            }
            catch (SysfsException)
            {
                // Not ours to read (EACCES), or it exited while it was listed.
                continue;
            }
            var held = entries.Select(fd => ReadLink($"{fds}/{fd}")).OfType<string>()
                .Where(target => target.StartsWith(prefix, StringComparison.Ordinal) && IsVfioNode(target.AsSpan(prefix.Length)))
                .Select(target => target[prefix.Length..]).Where(node => !holders.ContainsKey(node)).ToList();
            if (held.Count > 0 && ReadProcess(pid) is { } process)
            {
                foreach (var node in held)
                {
                    holders.TryAdd(node, process);
                }
            }
        }
        return holders;
    }

    /// <summary>The PCI function behind a VFIO character device (<c>vfioN</c> of <c>dev/vfio/devices</c>), by its class device's link.</summary>
    /// <param name="name">The character device's name, <c>vfioN</c>.</param>
    /// <returns>The function's address, or null when no such device is registered.</returns>
    public string? GetVfioDeviceFunction(string name) =>
        IsPathComponent(name) && TryLocate(SysfsPaths.VfioDevClass + "/" + name) is { } location
            ? System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(location.Path)))
            : null;

    // A group's number, or devices/vfioN; not the container (vfio), nor a node deleted while open ("12 (deleted)").
    private static bool IsVfioNode(ReadOnlySpan<char> name)
    {
        var number = name.StartsWith(VfioDevicesPrefix, StringComparison.Ordinal) ? name[VfioDevicesPrefix.Length..] : name;
        return number.Length > 0 && !number.ContainsAnyExceptInRange('0', '9');
    }

    // The process's name and command line; null when it exited meanwhile.
    private static NodeHolder? ReadProcess(int pid)
    {
        try
        {
            var command = WholeFile.Read($"{Proc}/{pid}/comm").TrimEnd('\n');
            var arguments = WholeFile.Read($"{Proc}/{pid}/cmdline").Split('\0');
            // Arguments end with a NUL each: the last split is empty.
            return new NodeHolder(pid, command, arguments[..^1]);
        }
        catch (SysfsException)
        {
            return null;
        }
    }
}
