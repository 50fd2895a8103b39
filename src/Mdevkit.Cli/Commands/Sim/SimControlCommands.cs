using System.CommandLine;
using Mdevkit.SimHost;

namespace Mdevkit.Cli.Commands.Sim;

/// <summary><c>sim status</c>, <c>sim hotplug add|remove PARENT</c>, <c>sim reboot</c>, <c>sim down</c>: requests to a running simulator.</summary>
internal static class SimControlCommands
{
    public static IEnumerable<Command> Create(Option<string> rootOption)
    {
        yield return Request("status", "Show the running simulator's profile, parents and devices", rootOption, _ => "status");
        yield return Request("reboot", "Reboot the simulated host: every device goes, every parent registers again", rootOption, _ => "reboot");
        yield return Down(rootOption);
        var hotplug = new Command("hotplug", "Plug a parent device in or pull it out");
        foreach (var action in new[] { "add", "remove" })
        {
            var parent = new Argument<string>("PARENT");
            var command = Request(action, action == "add" ? "Plug a parent device back in" : "Pull a parent device out (its devices go first)", rootOption, parse => $"hotplug {action} {parse.GetValue(parent)}");
            command.Arguments.Add(parent);
            hotplug.Subcommands.Add(command);
        }
        yield return hotplug;
    }

    private static Command Down(Option<string> rootOption)
    {
        var command = new Command("down", "Stop the simulator and unmount it; returns once it is gone. After a simulator was killed, detach the mounts it left") { rootOption };
        command.SetAction(parse => SimCommand.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var root = new SimRoot(parse.GetValue(rootOption)!);
            try
            {
                _ = SimControl.Send(root, "down");
                SimControl.WaitUntilGone(root);
                return 0;
            }
            catch (NotRunningException)
            {
                var detached = SimMounts.DetachDead(root);
                if (detached.Count == 0)
                {
                    throw;
                }
                File.Delete(root.Socket);
                parse.InvocationConfiguration.Output.WriteLine($"mdevkit sim: no simulator was running at {root.Directory}; detached the mounts it left: {string.Join(", ", detached)}");
                return 0;
            }
        }));
        return command;
    }

    private static Command Request(string name, string description, Option<string> rootOption, Func<ParseResult, string> request)
    {
        var command = new Command(name, description) { rootOption };
        command.SetAction(parse => SimCommand.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var root = new SimRoot(parse.GetValue(rootOption)!);
            var reply = SimControl.Send(root, request(parse));
            foreach (var line in reply)
            {
                parse.InvocationConfiguration.Output.WriteLine(line);
            }
            return 0;
        }));
        return command;
    }
}
