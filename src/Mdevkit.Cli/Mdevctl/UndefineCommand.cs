using System.CommandLine;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>undefine</c>: remove definitions; running devices stay.</summary>
internal static class UndefineCommand
{
    public static Command Create(Option<string>? root)
    {
        var uuid = MdevctlOptions.Uuid("UUID of the device to be undefined", required: true);
        var parent = MdevctlOptions.Parent("Parent of the device to be undefined");
        var force = MdevctlOptions.Force();
        var command = new Command("undefine", "Undefine a persistent mediated device") { uuid, parent, force };
        command.SetAction(parse => MdevctlContext.Run(parse, root, context =>
        {
            context.Manager.Undefine(parse.GetValue(uuid)!.Value, parse.GetValue(parent), parse.GetValue(force));
            return 0;
        }));
        return command;
    }
}
