using System.CommandLine;
using Mdevkit.Cli.Mdevctl;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary>
/// Options the mdevctl commands get only under the <c>mdevkit</c> name: <c>define --fill</c> and
/// <c>start|stop --group</c>. When one is given it takes over the command; otherwise the mdevctl command
/// runs, checks and all, exactly as it does when invoked as <c>mdevctl</c>.
/// </summary>
internal sealed class MdevctlExtensions(Option<string> root) : IMdevctlExtensions
{
    public CommandExtension Fill(Option<string?> type, Option<bool> auto)
    {
        var fill = new Option<string>("--fill") { Description = "Define as many devices of --type as this parent can hold now (mdevkit only)", HelpName = "PARENT" };
        var start = MdevctlOptions.Flag("--start", null, "With --fill: start each device too (mdevkit only)");
        return new CommandExtension(fill, [start],
            command =>
            {
                command.Validators.Add(result =>
                {
                    if (result.GetResult(fill) is not null && result.GetResult(type) is null)
                    {
                        result.AddError("--fill needs --type");
                    }
                });
                MdevctlOptions.Requires(command, start, fill);
            },
            parse => PlanningContext.Run(parse, root, context =>
            {
                context.Print(context.Provisioning.Fill(parse.GetValue(fill)!, parse.GetValue(type)!, parse.GetValue(auto), parse.GetValue(start)));
                return 0;
            }));
    }

    public CommandExtension Group(string verb, Option<Guid?> uuid)
    {
        var group = new Option<string>("--group") { Description = $"{(verb == "start" ? "Start" : "Stop")} every device of this group, all or none (mdevkit only)", HelpName = "NAME" };
        return new CommandExtension(group, [], command => MdevctlOptions.Conflict(command, group, uuid),
            parse => PlanningContext.Run(parse, root, context =>
            {
                var name = parse.GetValue(group)!;
                var changed = verb == "start" ? context.Provisioning.StartGroup(name) : context.Provisioning.StopGroup(name);
                foreach (var device in changed)
                {
                    context.Mdevctl.Output.Write($"{device:D}\n");
                }
                return 0;
            }));
    }
}
