using System.CommandLine;
using Mdevkit.Cli.Mdevctl;
using Mdevkit.Management.Planning;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary><c>mdevkit plan REQUEST</c> and <c>mdevkit apply PLAN.json</c>.</summary>
internal static class PlanCommands
{
    /// <summary>plan's exit status when part of the request cannot be placed: apart from usage errors (2) and failures (1).</summary>
    public const int PartlyPlaced = 3;

    public static Command Plan()
    {
        var request = new Argument<string>("REQUEST") { Description = "Devices wanted, e.g. \"4x nvidia-12, 2x nvidia-15\", or @FILE with a JSON array of {\"type\", \"count\"}" };
        var json = MdevctlOptions.Flag("--json", null, "Print the plan as JSON (the input of apply)");
        return PlanningContext.Command("plan", $"Place requested devices on this host's parents, respecting their capacity models and what runs; exits {PartlyPlaced} when part of the request cannot be placed", [request, json], (parse, context) =>
        {
            var text = parse.GetValue(request)!;
            var requests = text.StartsWith('@')
                ? Planner.ParseRequestJson(MdevctlContext.ReadJsonFile(text[1..])!.Value.Text, text[1..])
                : Planner.ParseRequest(text);
            var plan = context.Planner.Plan(requests);
            context.Mdevctl.Output.Write(parse.GetValue(json) ? plan.ToJson() : PlanningText.Plan(plan));
            return plan.Unplaced.Count > 0 ? PartlyPlaced : 0;
        });
    }

    public static Command Apply()
    {
        var file = new Argument<string>("PLAN") { Description = "A plan, as plan --json prints it" };
        return PlanningContext.Command("apply", "Define and start every device of a plan, all or none", [file], (parse, context) =>
        {
            var (path, text) = MdevctlContext.ReadJsonFile(parse.GetValue(file))!.Value;
            var plan = Management.Planning.Plan.Parse(text, path);
            context.Print(context.Provisioning.Apply(plan));
            return 0;
        });
    }
}
