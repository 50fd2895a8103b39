using System.CommandLine;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>start-parent-mdevs PARENT</c>: what udev runs when a parent registers. Failures are warnings; it exits 0.</summary>
internal static class StartParentMdevsCommand
{
    public static Command Create(Option<string>? root)
    {
        var parent = new Argument<string>("PARENT");
        var command = new Command("start-parent-mdevs", "Start the parent's devices that are defined to start automatically") { parent };
        command.Hidden = true;
        command.SetAction(parse => MdevctlContext.Run(parse, root, context =>
        {
            context.Manager.StartParentDevices(parse.GetValue(parent)!);
            return 0;
        }));
        return command;
    }
}
