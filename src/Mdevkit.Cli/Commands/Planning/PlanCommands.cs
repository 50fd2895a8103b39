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
        var file = new Argument<string?>("PLAN") { Description = "A plan, as plan --json prints it", Arity = ArgumentArity.ZeroOrOne };
        var vgpuConfig = new Option<string>("--vgpu-config") { Description = "Apply a config file of NVIDIA's vgpu-device-manager instead of a plan", HelpName = "FILE" };
        var select = new Option<string>("--select") { Description = "With --vgpu-config: the vgpu-config to apply (needed when the file has several)", HelpName = "NAME" };
        var command = PlanningContext.Command("apply", "Define and start every device of a plan, or bring NVIDIA's GPUs to a vGPU config; all or none",
            [file, vgpuConfig, select], (parse, context) =>
            {
                if (parse.GetValue(vgpuConfig) is { } configPath)
                {
                    var (path, text) = MdevctlContext.ReadJsonFile(configPath)!.Value;
                    var entries = VgpuConfigFile.Parse(text, path).Select(parse.GetValue(select), path);
                    var result = context.Mdevctl.Host.VgpuConfigs.Apply(entries);
                    context.Print(result.Made);
                    foreach (var device in result.Stopped)
                    {
                        context.Mdevctl.Output.Write($"{device.Uuid:D} {device.Parent} {device.Type} stopped\n");
                    }
                    return 0;
                }
                var (planPath, planText) = MdevctlContext.ReadJsonFile(parse.GetValue(file))!.Value;
                context.Print(context.Provisioning.Apply(Management.Planning.Plan.Parse(planText, planPath)));
                return 0;
            });
        command.Validators.Add(result =>
        {
            var plan = result.GetResult(file) is { Tokens.Count: > 0 };
            var config = result.GetResult(vgpuConfig) is not null;
            if (plan == config)
            {
                result.AddError("apply needs either a PLAN or --vgpu-config FILE");
            }
        });
        MdevctlOptions.Requires(command, select, vgpuConfig);
        return command;
    }
}
