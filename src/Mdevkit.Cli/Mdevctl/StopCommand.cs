using System.CommandLine;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>stop</c>: remove a running device.</summary>
internal static class StopCommand
{
    public static Command Create(Option<string>? root, IMdevctlExtensions? extensions = null)
    {
        var uuid = MdevctlOptions.Uuid("UUID of the device to stop");
        var force = MdevctlOptions.Force();
        var command = new Command("stop", "Stop a mediated device") { uuid, force };
        var extension = extensions?.Group("stop", uuid);
        // mdevctl requires --uuid. An extension that stands in for it needs the requirement as one of mdevctl's
        // checks, which are skipped when the extension is given.
        if (extension is null)
        {
            uuid.Required = true;
        }
        else
        {
            command.Validators.Add(result =>
            {
                if (result.GetResult(uuid) is null)
                {
                    result.AddError($"Option '{uuid.Name}' is required.");
                }
            });
        }
        CommandExtension.SetAction(command, parse => MdevctlContext.Run(parse, root, context =>
        {
            context.Manager.Stop(parse.GetValue(uuid)!.Value, parse.GetValue(force));
            return 0;
        }), extension);
        return command;
    }
}
