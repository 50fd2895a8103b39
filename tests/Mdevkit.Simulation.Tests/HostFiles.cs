using System.Text;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Tests;

/// <summary>Reads and writes a simulated host's files the way a process would: open, one read or write, the errno.</summary>
internal static class HostFiles
{
    public static string Read(this SimulatedHost host, string path)
    {
        var opened = host.Tree.Open(path, FileAccess.Read, Caller.Root, out var file);
        Assert.True(opened == Errno.None, $"open {path} for reading: {opened}");
        var buffer = new byte[(int)SysfsAttribute.ReportedSize];
        var count = file!.Read(0, buffer);
        Assert.True(count >= 0, $"read {path}: {(Errno)(-count)}");
        return Encoding.UTF8.GetString(buffer, 0, count);
    }

    /// <summary>One write(2) of <paramref name="text"/>; returns the errno the writer sees.</summary>
    public static Errno Write(this SimulatedHost host, string path, string text) => host.Write(path, Encoding.UTF8.GetBytes(text));

    public static Errno Write(this SimulatedHost host, string path, byte[] data)
    {
        var opened = host.Tree.Open(path, FileAccess.Write, Caller.Root, out var file);
        if (opened != Errno.None)
        {
            return opened;
        }
        var written = file!.Write(data);
        if (written < 0)
        {
            return (Errno)(-written);
        }
        Assert.Equal(data.Length, written);
        return Errno.None;
    }

    public static string TypePath(this SimulatedHost host, string parent, string type) =>
        $"{SysfsPaths.MdevBusClass}/{parent}/{SysfsNames.SupportedTypes}/{type}";

    public static uint Available(this SimulatedHost host, string parent, string type) =>
        uint.Parse(host.Read($"{host.TypePath(parent, type)}/{SysfsNames.AvailableInstances}").TrimEnd('\n'), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Creates a device as <c>echo UUID &gt; create</c> does; returns the errno.</summary>
    public static Errno Create(this SimulatedHost host, string parent, string type, Guid uuid) =>
        host.Write($"{host.TypePath(parent, type)}/{SysfsNames.Create}", MdevUuid.Format(uuid) + "\n");

    /// <summary>Removes a device as <c>echo 1 &gt; remove</c> does; returns the errno.</summary>
    public static Errno Remove(this SimulatedHost host, Guid uuid) =>
        host.Write($"{SysfsPaths.MdevBusDevices}/{MdevUuid.Format(uuid)}/{SysfsNames.Remove}", "1\n");

    /// <summary>Every parent's every visible type with its available instances: the host's offer.</summary>
    public static IReadOnlyDictionary<string, uint> Offer(this SimulatedHost host) =>
        host.Core.Parents
            .SelectMany(parent => parent.Types.Where(type => type.Directory is not null).Select(type => (parent, type)))
            .ToDictionary(pair => $"{pair.parent.Name}/{pair.type.Id}", pair => host.Available(pair.parent.Name, pair.type.Id));

    /// <summary>Enables <paramref name="count"/> virtual functions on every SR-IOV physical function.</summary>
    public static void EnableVfs(this SimulatedHost host, int count)
    {
        foreach (var parent in host.Core.Parents.Where(parent => host.Exists($"{parent.Directory.Path}/sriov_totalvfs")))
        {
            Assert.Equal(Errno.None, host.Write($"{parent.Directory.Path}/sriov_numvfs", $"{count}\n"));
        }
    }

    public static SimulatedHost Boot(string profile) => SimulatedHost.Boot(Profiles.HostProfile.Load(profile));

    /// <summary>Parses a profile given as JSON text.</summary>
    public static Profiles.HostProfile Profile(string json) =>
        Profiles.HostProfile.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)), "test profile");

    /// <summary>Boots a host with the given <c>parents</c> entries.</summary>
    public static SimulatedHost BootParents(string parentsJson) =>
        SimulatedHost.Boot(Profile($$"""{ "name": "test", "parents": [ {{parentsJson}} ] }"""));

    /// <summary>The directory of a device, through its bus link.</summary>
    public static string DevicePath(Guid uuid) => $"{SysfsPaths.MdevBusDevices}/{MdevUuid.Format(uuid)}";

    /// <summary>The entry at <paramref name="path"/> itself (a final link is not followed).</summary>
    public static SysfsNode Node(this SimulatedHost host, string path)
    {
        Assert.True(host.Tree.TryLookup(path, out var node), $"{path} does not exist");
        return node;
    }

    public static bool Exists(this SimulatedHost host, string path) => host.Tree.TryLookup(path, out _);

    /// <summary>The text of the symbolic link at <paramref name="path"/>.</summary>
    public static string LinkText(this SimulatedHost host, string path) => Assert.IsType<SysfsLink>(host.Node(path)).TargetText;

    /// <summary>Creates a device and checks that it worked.</summary>
    public static Guid CreateOk(this SimulatedHost host, string parent, string type)
    {
        var uuid = Guid.NewGuid();
        Assert.Equal(Errno.None, host.Create(parent, type, uuid));
        return uuid;
    }

    /// <summary>The available instances of each of a parent's types, in registration order.</summary>
    public static uint[] Availability(this SimulatedHost host, string parent, params string[] types) =>
        [.. types.Select(type => host.Available(parent, type))];
}
