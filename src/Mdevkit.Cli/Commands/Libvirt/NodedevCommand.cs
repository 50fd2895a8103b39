using System.CommandLine;
using Mdevkit.Cli.Mdevctl;
using Mdevkit.Management.Libvirt;
using Mdevkit.Sysfs;

namespace Mdevkit.Cli.Commands.Libvirt;

/// <summary><c>mdevkit nodedev</c>: the mediated devices as libvirt's node-device API shows and changes them.</summary>
internal static class NodedevCommand
{
    public static Command Create()
    {
        var nodedev = new Command("nodedev", "Mediated devices and their parents as libvirt node devices (virsh nodedev-*)");
        foreach (var command in new[] { List(), DumpXml(), Change("define"), Change("create") })
        {
            nodedev.Subcommands.Add(command);
        }
        return nodedev;
    }

    private static Command List()
    {
        var root = MdevctlOptions.Root();
        var cap = new Option<string?>("--cap") { Description = $"Only devices with one of these capabilities, separated by commas ({string.Join(", ", NodeDevices.CapabilityNames)})", HelpName = "CAPS" };
        var inactive = new Option<bool>("--inactive") { Description = "List defined devices that are not started" };
        var all = new Option<bool>("--all") { Description = "List active and inactive devices" };
        var command = new Command("list", "List node devices, as virsh nodedev-list") { root, cap, inactive, all };
        command.SetAction(parse => LibvirtCommands.Run(parse, root, null, (context, nodeDevices) =>
        {
            if (parse.GetValue(all) && parse.GetValue(inactive))
            {
                throw new NodeDeviceException("Option --all is incompatible with --inactive");
            }
            var caps = parse.GetValue(cap)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
            if (caps.Any(name => !NodeDevices.CapabilityNames.Contains(name)))
            {
                throw new NodeDeviceException("Invalid capability type");
            }
            var devices = nodeDevices.List(active: !parse.GetValue(inactive), inactive: parse.GetValue(inactive) || parse.GetValue(all));
            foreach (var device in devices.Where(device => caps.Length == 0 || device.Capabilities.Intersect(caps).Any()))
            {
                context.Output.Write($"{device.Name}\n");
            }
            return 0;
        }));
        return command;
    }

    private static Command DumpXml()
    {
        var root = MdevctlOptions.Root();
        var name = new Argument<string>("device") { Description = "A node-device name, as nodedev list shows it" };
        var inactive = new Option<bool>("--inactive") { Description = "For a defined mdev, show the stored definition rather than the running device" };
        var command = new Command("dumpxml", "Show a node device's XML, as virsh nodedev-dumpxml") { root, name, inactive };
        command.SetAction(parse => LibvirtCommands.Run(parse, root, null, (context, nodeDevices) =>
        {
            context.Output.Write(LibvirtXml.Format(nodeDevices.Find(parse.GetValue(name)!, parse.GetValue(inactive)).Xml));
            return 0;
        }));
        return command;
    }

    // define and create differ only in the operation and in virsh's words for it.
    private static Command Change(string verb)
    {
        var root = MdevctlOptions.Root();
        var file = new Argument<string>("file") { Description = "An XML description of the mdev" };
        var define = verb == "define";
        var command = new Command(verb, define
            ? "Define a persistent mdev from libvirt node-device XML, as virsh nodedev-define"
            : "Start a transient mdev from libvirt node-device XML, as virsh nodedev-create") { root, file };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var failure = define ? $"Failed to define node device from '{path}'" : $"Failed to create node device from {path}";
            return LibvirtCommands.Run(parse, root, failure, (context, nodeDevices) =>
            {
                var device = MdevDeviceXml.Parse(ReadFile(path));
                var changes = new NodeDeviceChanges(nodeDevices, context.Manager, context.Definitions);
                context.Output.Write(define
                    ? $"Node device '{changes.Define(device, path)}' defined from '{path}'\n"
                    : $"Node device {changes.Create(device, path)} created from {path}\n");
                return 0;
            });
        });
        return command;
    }

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeDeviceException($"cannot read '{path}': {SysfsException.Describe(SysfsException.ToErrno(e))}");
        }
    }
}
