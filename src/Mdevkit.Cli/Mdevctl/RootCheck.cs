using Mdevkit.Management;
using Mdevkit.SimHost;
using Mdevkit.Sysfs;

namespace Mdevkit.Cli.Mdevctl;

/// <summary>
/// Before a command runs: is the root an mdevctl installation, and is it the one the user meant? A
/// simulated host lives under its own root, and forgetting <c>--root</c> (or <c>MDEVCTL_ENV_ROOT</c>) is
/// the commonest slip; the answer names the fix instead of a "packaging or installation error".
/// </summary>
internal static class RootCheck
{
    /// <param name="environment">The root the command will use.</param>
    /// <param name="rootSource">Where a root other than <c>/</c> came from: <c>--root</c> or the variable.</param>
    /// <param name="warn">Where a hint goes when the command can run but probably looks in the wrong place.</param>
    /// <param name="hasRootOption">Whether the command takes <c>--root</c> (mdevkit's names do, mdevctl's do not).</param>
    /// <exception cref="MdevctlException">The root is not a directory, or not an installation.</exception>
    public static void Check(MdevctlEnvironment environment, string rootSource, Action<string> warn, bool hasRootOption)
    {
        var atSystemRoot = environment.Root == "/";
        if (!atSystemRoot && !Directory.Exists(environment.Root))
        {
            throw new MdevctlException(File.Exists(environment.Root)
                ? $"{rootSource} {environment.Root} is a file, not a root directory"
                : $"{rootSource} {environment.Root} does not exist");
        }
        if (!environment.IsInstalled)
        {
            if (!atSystemRoot && !Directory.Exists(environment.Sysfs.PathOf(SysfsPaths.Sys)) && !Directory.Exists(environment.Sysfs.PathOf("etc")))
            {
                var where = SimMounts.ServedRoots() is [var served, ..]
                    ? $"; a simulated host is running at {served}: {Fix(served, hasRootOption)}"
                    : $" (a simulated host's root is the directory given to 'mdevkit sim up --root', by default {SimRoot.DefaultDirectory})";
                throw new MdevctlException($"{rootSource} {environment.Root} is not a root: it has neither sys/ nor etc/mdevctl.d{where}");
            }
            if (atSystemRoot && SimMounts.ServedRoots() is [var simulator, ..])
            {
                throw new MdevctlException($"no mdevctl installation under / ({environment.ConfigDirectory} or its script directories are missing), but a simulated host is running at {simulator}: {Fix(simulator, hasRootOption)}");
            }
            environment.CheckInstallation();
        }
        if (atSystemRoot && !environment.HasParentsOrDefinitions() && SimMounts.ServedRoots() is [var running, ..])
        {
            warn($"No mediated device parents or definitions under /, but a simulated host is running at {running}: {Fix(running, hasRootOption)}");
        }
    }

    /// <summary>
    /// When a command failed: whether the root is a simulator's that was killed (its <c>sys</c> mount is still
    /// there but dead), which explains every failure below it. Asked only after a failure, so commands that
    /// work pay nothing for it.
    /// </summary>
    /// <returns>The whole error text naming the fix, or null.</returns>
    public static string? KilledSimulator(MdevctlEnvironment environment)
    {
        var sys = environment.Sysfs.PathOf(SysfsPaths.Sys);
        return SimMounts.IsDead(sys)
            ? $"Error: the simulator serving {environment.Root} is gone and left its mounts behind ({sys}: {MdevctlException.OsError(Errno.ENOTCONN)}): 'mdevkit sim down --root {environment.Root}' detaches them, 'mdevkit sim up --root {environment.Root}' starts a new one\n"
            : null;
    }

    private static string Fix(string simulatorRoot, bool hasRootOption) => hasRootOption
        ? $"use --root {simulatorRoot} (or MDEVCTL_ENV_ROOT={simulatorRoot})"
        : $"use MDEVCTL_ENV_ROOT={simulatorRoot}, or run the command through 'mdevkit sim exec --root {simulatorRoot} -- …'";
}
