using System.CommandLine;
using Mdevkit.Cli.Mdevctl;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary><c>mdevkit group add|remove|list</c>: named sets of devices that start and stop together.</summary>
internal static class GroupCommand
{
    public static Command Create()
    {
        var group = new Command("group", "Named sets of defined devices, started and stopped together with start|stop --group");
        group.Subcommands.Add(Change("add", "Add devices to a group (made if new)", (context, name, uuids) => context.Groups.Add(name, uuids)));
        group.Subcommands.Add(Change("remove", "Remove devices from a group (deleted with its last member)", (context, name, uuids) => context.Groups.Remove(name, uuids)));
        var only = new Argument<string?>("NAME") { Description = "Only this group", Arity = ArgumentArity.ZeroOrOne };
        group.Subcommands.Add(PlanningContext.Command("list", "List groups and their members, one NAME UUID a line", [only], (parse, context) =>
        {
            var names = parse.GetValue(only) is { } wanted ? [wanted] : context.Groups.Names();
            foreach (var name in names)
            {
                foreach (var uuid in context.Groups.Members(name))
                {
                    context.Mdevctl.Output.Write($"{name} {uuid:D}\n");
                }
            }
            return 0;
        }));
        return group;
    }

    private static Command Change(string verb, string description, Action<PlanningContext, string, IReadOnlyCollection<Guid>> change)
    {
        var name = new Argument<string>("NAME") { Description = "The group" };
        var uuids = MdevctlOptions.UuidArguments("UUID", "Devices");
        return PlanningContext.Command(verb, description, [name, uuids], (parse, context) =>
        {
            change(context, parse.GetValue(name)!, parse.GetValue(uuids)!);
            return 0;
        });
    }
}
