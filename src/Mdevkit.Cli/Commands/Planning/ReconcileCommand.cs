using System.CommandLine;
using Mdevkit.Management.Reconcile;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary><c>mdevkit reconcile [--dry-run]</c>: the agent's reconciler, once, from the command line.</summary>
internal static class ReconcileCommand
{
    public static Command Create()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be done, and do nothing" };
        return PlanningContext.Command("reconcile", "Make the host carry what etc/mdevkit/host.json declares, all or nothing; remove only what this made", [dryRun], (parse, context) =>
        {
            var output = context.Mdevctl.Output;
            var reconciler = context.Mdevctl.Host.Reconciler;
            if (parse.GetValue(dryRun))
            {
                var (text, wouldFit) = reconciler.DryRun();
                output.Write(text);
                return wouldFit ? 0 : 1;
            }
            if (HostDeclaration.Load(context.Mdevctl.Host.Environment) is not { } declaration)
            {
                output.Write(reconciler.DryRun().Text);
                return 0;
            }
            var plan = reconciler.Apply(declaration, action => output.Write($"{action}\n"));
            output.Write(string.Concat(plan.Drift.Select(drift => $"drift {drift}\n")));
            if (!plan.Fits)
            {
                context.Mdevctl.Error.Write($"Error: {ReconcilePlan.RefusedMessage}\n");
                return 1;
            }
            return 0;
        });
    }
}
