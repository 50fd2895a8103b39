using System.CommandLine;
using Mdevkit.Cli.Mdevctl;
using Mdevkit.Management.Planning;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary>The mdevctl context plus the planning services over the same root.</summary>
internal sealed class PlanningContext
{
    private PlanningContext(MdevctlContext mdevctl)
    {
        Mdevctl = mdevctl;
    }

    public MdevctlContext Mdevctl { get; }

    public CapacityStore Models => Mdevctl.Host.CapacityModels;

    public GroupStore Groups => Mdevctl.Host.Groups;

    public CapacityProbe Probe => Mdevctl.Host.Probe;

    public Planner Planner => Mdevctl.Host.Planner;

    public Provisioning Provisioning => Mdevctl.Host.Provisioning;

    /// <summary>A command with <c>--root</c> whose body gets the context; errors are rendered as the mdevctl commands render them.</summary>
    public static Command Command(string name, string description, Symbol[] symbols, Func<ParseResult, PlanningContext, int> body)
    {
        var root = MdevctlOptions.Root();
        var command = new Command(name, description) { root };
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }
        command.SetAction(parse => Run(parse, root, context => body(parse, context)));
        return command;
    }

    /// <summary>Runs a body with errors rendered as the mdevctl commands render them.</summary>
    public static int Run(ParseResult parse, Option<string> root, Func<PlanningContext, int> body) =>
        MdevctlContext.Run(parse, root, mdevctl => body(new PlanningContext(mdevctl)));

    /// <summary>Prints made devices, one <c>UUID PARENT TYPE</c> a line.</summary>
    public void Print(IEnumerable<MadeDevice> devices)
    {
        foreach (var device in devices)
        {
            Mdevctl.Output.Write($"{device.Uuid:D} {device.Parent} {device.Type}\n");
        }
    }
}
