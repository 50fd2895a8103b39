using System.CommandLine;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>stop</c>: remove a running device.</summary>
internal static class StopCommand
{
    public static Command Create(Option<string>? root)
    {
        var uuid = MdevctlOptions.Uuid("UUID of the device to stop", required: true);
        var force = MdevctlOptions.Force();
        var command = new Command("stop", "Stop a mediated device") { uuid, force };
        command.SetAction(parse => MdevctlContext.Run(parse, root, context =>
        {
            context.Manager.Stop(parse.GetValue(uuid)!.Value, parse.GetValue(force));
            return 0;
        }));
        return command;
    }
}
