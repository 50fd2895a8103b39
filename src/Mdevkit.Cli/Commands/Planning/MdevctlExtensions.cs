using System.CommandLine;
using System.CommandLine.Invocation;
using Mdevkit.Cli.Mdevctl;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary>
/// Options the mdevctl commands get only under the <c>mdevkit</c> name: <c>define --fill</c> and
/// <c>start|stop --group</c>. When one is given it takes over the command; otherwise the mdevctl command
/// runs, checks and all, exactly as it does when invoked as <c>mdevctl</c>.
/// </summary>
internal static class MdevctlExtensions
{
    public static void Extend(Command command, Option<string> root)
    {
        switch (command.Name)
        {
            case "define":
                AddFill(command, root);
                break;
            case "start":
            case "stop":
                AddGroup(command, root);
                break;
        }
    }

    private static void AddFill(Command command, Option<string> root)
    {
        var fill = new Option<string>("--fill") { Description = "Define as many devices of --type as this parent can hold now (mdevkit only)", HelpName = "PARENT" };
        var start = MdevctlOptions.Flag("--start", null, "With --fill: start each device too (mdevkit only)");
        var type = (Option<string?>)command.Options.First(option => option.Name == "--type");
        var auto = (Option<bool>)command.Options.First(option => option.Name == "--auto");
        TakeOver(command, fill, [start]);
        command.Validators.Add(result =>
        {
            if (result.GetResult(fill) is not null && result.GetResult(type) is null)
            {
                result.AddError("--fill needs --type");
            }
        });
        MdevctlOptions.Requires(command, start, fill);
        SetAction(command, fill, parse => PlanningContext.Run(parse, root, context =>
        {
            context.Print(context.Provisioning.Fill(parse.GetValue(fill)!, parse.GetValue(type)!, parse.GetValue(auto), parse.GetValue(start)));
            return 0;
        }));
    }

    private static void AddGroup(Command command, Option<string> root)
    {
        var group = new Option<string>("--group") { Description = $"{(command.Name == "start" ? "Start" : "Stop")} every device of this group, all or none (mdevkit only)", HelpName = "NAME" };
        var uuid = command.Options.First(option => option.Name == "--uuid");
        // stop's --uuid is required by mdevctl; with --group it is not, so the requirement moves into a check.
        var uuidRequired = uuid.Required;
        uuid.Required = false;
        TakeOver(command, group, []);
        command.Validators.Add(result =>
        {
            if (uuidRequired && result.GetResult(group) is null && result.GetResult(uuid) is null)
            {
                result.AddError($"Option '{uuid.Name}' is required.");
            }
        });
        MdevctlOptions.Conflict(command, group, uuid);
        SetAction(command, group, parse => PlanningContext.Run(parse, root, context =>
        {
            var name = parse.GetValue(group)!;
            var changed = command.Name == "start" ? context.Provisioning.StartGroup(name) : context.Provisioning.StopGroup(name);
            foreach (var device in changed)
            {
                context.Mdevctl.Output.Write($"{device:D}\n");
            }
            return 0;
        }));
    }

    // Adds the options and lets mdevctl's own checks run only when the taking-over option is absent.
    private static void TakeOver(Command command, Option trigger, Option[] companions)
    {
        var checks = command.Validators.ToList();
        command.Validators.Clear();
        foreach (var check in checks)
        {
            command.Validators.Add(result =>
            {
                if (result.GetResult(trigger) is null)
                {
                    check(result);
                }
            });
        }
        command.Options.Add(trigger);
        foreach (var companion in companions)
        {
            command.Options.Add(companion);
        }
    }

    private static void SetAction(Command command, Option trigger, Func<ParseResult, int> action)
    {
        var mdevctl = (SynchronousCommandLineAction)command.Action!;
        command.SetAction(parse => parse.GetResult(trigger) is not null ? action(parse) : mdevctl.Invoke(parse));
    }
}
