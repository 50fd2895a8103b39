using System.CommandLine;
using Mdevkit.Management;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>modify</c>: change a stored definition.</summary>
internal static class ModifyCommand
{
    public static Command Create(Option<string>? root)
    {
        var uuid = MdevctlOptions.Uuid("UUID of the mdev to modify", required: true);
        var parent = MdevctlOptions.Parent("Parent of the mdev to modify");
        var type = MdevctlOptions.Type("Modify the mdev type for this device");
        var addAttribute = new Option<string?>("--addattr") { Description = "Add a new attribute", HelpName = "attr_name" };
        var deleteAttribute = MdevctlOptions.Flag("--delattr", null, "Delete an attribute");
        var index = MdevctlOptions.Index("Index of the attribute to modify");
        var value = new Option<string?>("--value") { Description = "Value for the attribute specified by --addattr", HelpName = "attr_value" };
        var auto = MdevctlOptions.Flag("--auto", "-a", "Device will be started automatically");
        var manual = MdevctlOptions.Flag("--manual", "-m", "Device must be started manually");
        var live = MdevctlOptions.Flag("--live", "-l", "Modify the running device definition only unless used together with defined option");
        var defined = MdevctlOptions.Flag("--defined", "-d", "Modify the stored device definition");
        var jsonFile = MdevctlOptions.JsonFile("Specify device details in JSON format");
        var force = MdevctlOptions.Force();
        var command = new Command("modify", "Modify the definition of a mediated device")
        {
            uuid, parent, type, addAttribute, deleteAttribute, index, value, auto, manual, live, defined, jsonFile, force,
        };
        MdevctlOptions.OneOf(command, auto, manual, addAttribute, deleteAttribute, jsonFile);
        MdevctlOptions.Requires(command, addAttribute, value);
        MdevctlOptions.Requires(command, value, addAttribute);
        MdevctlOptions.Requires(command, live, jsonFile);
        MdevctlOptions.Conflict(command, value, deleteAttribute);
        foreach (var option in new Option[] { index, value })
        {
            MdevctlOptions.Conflict(command, auto, option);
            MdevctlOptions.Conflict(command, manual, option);
            MdevctlOptions.Conflict(command, live, option);
            MdevctlOptions.Conflict(command, jsonFile, option);
        }
        MdevctlOptions.Conflict(command, live, type);
        MdevctlOptions.Conflict(command, jsonFile, type);
        command.SetAction(parse => MdevctlContext.Run(parse, root, context =>
        {
            context.Manager.Modify(new ModifyRequest(
                parse.GetValue(uuid)!.Value,
                parse.GetValue(parent),
                parse.GetValue(type),
                parse.GetValue(addAttribute),
                parse.GetValue(deleteAttribute),
                parse.GetValue(index),
                parse.GetValue(value),
                parse.GetValue(auto),
                parse.GetValue(manual),
                MdevctlContext.ReadJsonFile(parse.GetValue(jsonFile)),
                parse.GetValue(live),
                parse.GetValue(defined),
                parse.GetValue(force)));
            return 0;
        }));
        return command;
    }
}
