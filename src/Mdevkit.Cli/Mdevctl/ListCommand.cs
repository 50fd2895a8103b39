using System.CommandLine;
using Mdevkit.Management;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>list</c> (and <c>lsmdev</c>): running or defined devices, as text or JSON.</summary>
internal static class ListCommand
{
    public static Command Create(Option<string>? root) => Configure(new Command("list", "List mediated devices"), root);

    /// <summary>Adds list's options and action to <paramref name="command"/> (also the root command of <c>lsmdev</c>).</summary>
    public static Command Configure(Command command, Option<string>? root)
    {
        var defined = MdevctlOptions.Flag("--defined", "-d", "Show defined devices");
        var dumpJson = MdevctlOptions.Flag("--dumpjson", null, "Output device list in json format");
        var verbose = MdevctlOptions.Flag("--verbose", "-v", "Print additional information about the devices");
        var uuid = MdevctlOptions.Uuid("List devices matching the specified UUID");
        var parent = MdevctlOptions.Parent("List devices associated with the specified Parent device");
        foreach (var option in new Option[] { defined, dumpJson, verbose, uuid, parent })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => MdevctlContext.Run(parse, root, context =>
        {
            var uuidValue = parse.GetValue(uuid);
            var devices = parse.GetValue(defined)
                ? context.Inventory.Defined(uuidValue, parse.GetValue(parent))
                : context.Inventory.Active(uuidValue, parse.GetValue(parent));
            context.Output.Write(parse.GetValue(dumpJson)
                ? MdevctlFormat.ListJson(devices, uuidRequested: uuidValue is not null)
                : MdevctlFormat.ListText(devices, parse.GetValue(defined), parse.GetValue(verbose)));
            return 0;
        }));
        return command;
    }
}
