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
        Models = new CapacityStore(mdevctl.Environment);
        Groups = new GroupStore(mdevctl.Environment);
        Probe = new CapacityProbe(mdevctl.Environment, mdevctl.Definitions, mdevctl.Manager, Models);
        Planner = new Planner(mdevctl.Environment, Models);
        Provisioning = new Provisioning(mdevctl.Environment, mdevctl.Manager, Groups, mdevctl.Warn);
    }

    public MdevctlContext Mdevctl { get; }

    public CapacityStore Models { get; }

    public GroupStore Groups { get; }

    public CapacityProbe Probe { get; }

    public Planner Planner { get; }

    public Provisioning Provisioning { get; }

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
