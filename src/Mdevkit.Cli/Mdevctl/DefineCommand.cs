using System.CommandLine;
using Mdevkit.Management;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>define</c>: make a persistent definition; prints the UUID when it made one up.</summary>
internal static class DefineCommand
{
    public static Command Create(Option<string>? root, IMdevctlExtensions? extensions = null)
    {
        var uuid = MdevctlOptions.Uuid("Assign UUID to the device");
        var auto = MdevctlOptions.Flag("--auto", "-a", "Automatically start device on parent availability");
        var parent = MdevctlOptions.Parent("Specify the parent of the device");
        var type = MdevctlOptions.Type("Specify the mdev type of the device");
        var jsonFile = MdevctlOptions.JsonFile("Specify device details in JSON format");
        var force = MdevctlOptions.Force();
        var command = new Command("define", "Define a persistent mediated device") { uuid, auto, parent, type, jsonFile, force };
        MdevctlOptions.OneOf(command, uuid, parent);
        MdevctlOptions.Conflict(command, jsonFile, type);
        MdevctlOptions.Conflict(command, jsonFile, auto);
        CommandExtension.SetAction(command, parse => MdevctlContext.Run(parse, root, context =>
        {
            var request = new DefineRequest(parse.GetValue(uuid), parse.GetValue(parent), parse.GetValue(type), parse.GetValue(auto),
                MdevctlContext.ReadJsonFile(parse.GetValue(jsonFile)), parse.GetValue(force));
            var defined = context.Manager.Define(request);
            if (request.Uuid is null)
            {
                context.Output.Write($"{defined}\n");
            }
            return 0;
        }), extensions?.Fill(type, auto));
        return command;
    }
}
