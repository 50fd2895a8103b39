using System.CommandLine;
using Mdevkit.Cli.Mdevctl;
using Mdevkit.Management;
using Mdevkit.Management.Libvirt;

namespace Mdevkit.Cli.Commands.Libvirt;

/// <summary>What the libvirt-view commands share: the mdevctl context over <c>--root</c>, and virsh's error shape.</summary>
internal static class LibvirtCommands
{
    /// <summary>
    /// Runs a body over the managers; a refusal prints as virsh prints it (<c>error: </c> lines, the operation's
    /// failure first when given) and exits 1.
    /// </summary>
    public static int Run(ParseResult parse, Option<string> root, string? failure, Func<MdevctlContext, NodeDevices, int> body) =>
        MdevctlContext.Run(parse, root, context =>
        {
            try
            {
                return body(context, context.Host.NodeDevices);
            }
            catch (MdevctlException e)
            {
                var reason = string.Join(": ", [e.Message, .. e.Causes]);
                context.Error.Write(failure is null ? $"error: {reason}\n" : $"error: {failure}\nerror: {reason}\n");
                return 1;
            }
        });
}
