using Mdevkit.Management;
using Mdevkit.Management.Reconcile;

namespace Mdevkit.Agent;

/// <summary><c>mdevkitd --dry-run</c>: what reconciling the root would do now, printed; nothing is changed.</summary>
internal static class DryRun
{
    /// <returns>0 when it would apply, 1 when it cannot fit or the declaration cannot be read.</returns>
    public static async Task<int> PrintAsync(string root, TextWriter output, TextWriter errors)
    {
        var environment = new MdevctlEnvironment(root, warning => errors.Write($"Warning: {warning}\n"));
        var host = new ManagedHost(environment, errors);
        try
        {
            if (HostDeclaration.Load(environment) is not { } declaration)
            {
                await output.WriteAsync($"no declaration at {HostDeclaration.PathOf(environment)}: nothing to reconcile\n");
                return 0;
            }
            var plan = host.Reconciler.Plan(declaration);
            await output.WriteAsync(plan.ToText());
            return plan.Fits ? 0 : 1;
        }
        catch (MdevctlException e)
        {
            await errors.WriteAsync(e.Render());
            return 1;
        }
    }
}
