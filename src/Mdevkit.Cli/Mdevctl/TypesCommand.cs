using System.CommandLine;
using Mdevkit.Management;

namespace Mdevkit.Cli.Mdevctl;

/// <summary><c>types</c>: what each parent offers now.</summary>
internal static class TypesCommand
{
    public static Command Create(Option<string>? root)
    {
        var parent = MdevctlOptions.Parent("Show supported types for the specified parent");
        var dumpJson = MdevctlOptions.Flag("--dumpjson", null, "Output mdev types list in JSON format");
        var command = new Command("types", "List available mediated device types") { parent, dumpJson };
        command.SetAction(parse => MdevctlContext.Run(parse, root, context =>
        {
            var types = context.Inventory.Types(parse.GetValue(parent));
            context.Output.Write(parse.GetValue(dumpJson) ? MdevctlFormat.TypesJson(types) : MdevctlFormat.TypesText(types));
            return 0;
        }));
        return command;
    }
}
