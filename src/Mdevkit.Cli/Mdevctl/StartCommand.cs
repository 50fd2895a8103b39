using System.CommandLine;
using Mdevkit.Management;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>start</c>: start a defined device or a transient one; prints the UUID when it made one up.</summary>
internal static class StartCommand
{
    public static Command Create(Option<string>? root, IMdevctlExtensions? extensions = null)
    {
        var uuid = MdevctlOptions.Uuid("UUID of the device to start");
        var parent = MdevctlOptions.Parent("Parent of the device to start");
        var type = MdevctlOptions.Type("Mdev type of the device to start");
        var jsonFile = MdevctlOptions.JsonFile("Details of the device to be started, in JSON format");
        var force = MdevctlOptions.Force();
        var command = new Command("start", "Start a mediated device") { uuid, parent, type, jsonFile, force };
        MdevctlOptions.OneOf(command, uuid, parent);
        MdevctlOptions.Conflict(command, jsonFile, type);
        CommandExtension.SetAction(command, parse => MdevctlContext.Run(parse, root, context =>
        {
            var request = new StartRequest(parse.GetValue(uuid), parse.GetValue(parent), parse.GetValue(type), MdevctlContext.ReadJsonFile(parse.GetValue(jsonFile)), parse.GetValue(force));
            // Under the mdevkit name an SR-IOV GPU's physical function takes a device on a free virtual function.
            var started = context.Host.Provisioning.Start(request);
            if (request.Uuid is null)
            {
                context.Output.Write($"{started}\n");
            }
            return 0;
        }), extensions?.Group("start", uuid));
        return command;
    }
}
