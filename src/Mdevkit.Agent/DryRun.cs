using Mdevkit.Management;

namespace Mdevkit.Agent;

/// <summary><c>mdevkitd --dry-run</c>: what reconciling the root would do now, printed; nothing is changed.</summary>
internal static class DryRun
{
    /// <returns>0 when it would apply, 1 when it cannot fit or the declaration cannot be read.</returns>
    public static async Task<int> PrintAsync(string root, TextWriter output, TextWriter errors)
    {
        var environment = new MdevctlEnvironment(root, warning => errors.Write($"Warning: {warning}\n"));
        try
        {
            var (text, fits) = new ManagedHost(environment, errors).Reconciler.DryRun();
            await output.WriteAsync(text);
            return fits ? 0 : 1;
        }
        catch (MdevctlException e)
        {
            await errors.WriteAsync(e.Render());
            return 1;
        }
    }
}
