using System.Text;
using Mdevkit.Simulation;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Cli.Commands;

/// <summary>
/// Shows a simulated host through its sysfs files: the offer, one device created on each parent by
/// writing its UUID into <c>create</c>, the offer then, and the offer after writing <c>1</c> into each <c>remove</c>.
/// </summary>
internal static class SimTour
{
    public static int Run(SimulatedHost host, TextWriter output)
    {
        output.WriteLine($"Simulated host '{host.ProfileName}': {MdevParents(host).Count()} parents");
        var initial = WriteOffer(host, output);

        output.WriteLine();
        output.WriteLine("Creating one device on each parent (echo UUID > .../create):");
        var created = new List<(ParentDevice Parent, string Uuid)>();
        foreach (var parent in MdevParents(host))
        {
            var type = parent.Types.FirstOrDefault(type => type.Directory is not null && host.Core.GetAvailableInstances(type) > 0);
            if (type is null)
            {
                output.WriteLine($"  {parent.Name}: no type has an instance available");
                continue;
            }
            var uuid = MdevUuid.Format(Guid.NewGuid());
            var result = WriteFile(host.Tree, $"{type.Directory!.Path}/{SysfsNames.Create}", uuid + "\n");
            output.WriteLine($"  {parent.Name}: {uuid} of {type.Id}: {Describe(result)}");
            if (result == Errno.None)
            {
                created.Add((parent, uuid));
            }
        }
        WriteOffer(host, output);

        output.WriteLine();
        output.WriteLine("Removing them (echo 1 > /sys/bus/mdev/devices/UUID/remove):");
        foreach (var (parent, uuid) in created)
        {
            var result = WriteFile(host.Tree, $"{SysfsPaths.MdevBusDevices}/{uuid}/{SysfsNames.Remove}", "1\n");
            output.WriteLine($"  {parent.Name}: {uuid}: {Describe(result)}");
        }
        var final = WriteOffer(host, output);
        var restored = final == initial;
        output.WriteLine();
        output.WriteLine(restored ? "The offer is back where it started." : "The offer differs from where it started.");
        return restored ? 0 : 1;
    }

    // Prints each parent's types with the values read from their files, and returns the text for comparison.
    private static string WriteOffer(SimulatedHost host, TextWriter output)
    {
        var text = new StringBuilder();
        foreach (var parent in MdevParents(host))
        {
            text.AppendLine();
            text.AppendLine($"{parent.Name}  ({parent.Directory.Path}, {parent.Devices.Count} devices)");
            foreach (var type in parent.Types.Where(type => type.Directory is not null))
            {
                var path = type.Directory!.Path;
                var name = ReadFile(host.Tree, $"{path}/{SysfsNames.Name}");
                var api = ReadFile(host.Tree, $"{path}/{SysfsNames.DeviceApi}");
                var available = ReadFile(host.Tree, $"{path}/{SysfsNames.AvailableInstances}");
                text.AppendLine($"  {type.Id,-24} {name,-28} {api,-9} available {available}");
            }
        }
        output.Write(text);
        return text.ToString();
    }

    // An SR-IOV GPU's physical function offers nothing itself; its virtual functions appear once enabled.
    private static IEnumerable<ParentDevice> MdevParents(SimulatedHost host) => host.Core.Parents.Where(parent => parent.IsMdevParent);

    private static string ReadFile(SysfsTree tree, string path)
    {
        var opened = tree.Open(path, FileAccess.Read, Caller.Root, out var file);
        if (opened != Errno.None)
        {
            return $"<{opened}>";
        }
        var buffer = new byte[(int)SysfsAttribute.ReportedSize];
        var count = file!.Read(0, buffer);
        return count < 0 ? $"<{(Errno)(-count)}>" : Encoding.UTF8.GetString(buffer, 0, count).TrimEnd('\n');
    }

    private static Errno WriteFile(SysfsTree tree, string path, string text)
    {
        var opened = tree.Open(path, FileAccess.Write, Caller.Root, out var file);
        if (opened != Errno.None)
        {
            return opened;
        }
        var written = file!.Write(Encoding.ASCII.GetBytes(text));
        return written < 0 ? (Errno)(-written) : Errno.None;
    }

    private static string Describe(Errno result) => result == Errno.None ? "ok" : $"failed: {result}";
}
