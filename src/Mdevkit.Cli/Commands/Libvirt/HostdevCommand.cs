using System.CommandLine;
using Mdevkit.Cli.Mdevctl;
using Mdevkit.Management.Libvirt;

namespace Mdevkit.Cli.Commands.Libvirt;

/// <summary><c>mdevkit hostdev UUID</c>: the domain XML that assigns a device to a guest.</summary>
internal static class HostdevCommand
{
    public static Command Create()
    {
        var root = MdevctlOptions.Root();
        var uuid = MdevctlOptions.UuidArgument("uuid", "A running or defined device");
        var command = new Command("hostdev", "Print the libvirt domain <hostdev> for a mediated device") { root, uuid };
        command.SetAction(parse => LibvirtCommands.Run(parse, root, null, (context, _) =>
        {
            context.Output.Write(LibvirtXml.Format(MdevHostdev.For(parse.GetValue(uuid), context.Environment, context.Inventory, context.Host.Kernel)));
            return 0;
        }));
        return command;
    }
}
