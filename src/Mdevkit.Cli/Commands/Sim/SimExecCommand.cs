using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Mdevkit.Cli.Native;
using Mdevkit.SimHost;
using Mdevkit.Sysfs;

namespace Mdevkit.Cli.Commands.Sim;

/// <summary>
/// <c>sim exec -- COMMAND…</c>: runs COMMAND in a private mount namespace in which the simulator's
/// <c>sys</c> is <c>/sys</c> and its <c>etc/mdevctl.d</c> (and script directories) are the system's, so unmodified
/// tools see the simulated host. The machine's own mounts stay untouched.
/// </summary>
internal static class SimExecCommand
{
    public static IEnumerable<Command> Create(Option<string> rootOption)
    {
        var command = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.OneOrMore, Description = "The command and its arguments (after --)" };
        var exec = new Command("exec", "Run a command that sees the running simulator as this machine's /sys and /etc/mdevctl.d") { rootOption, command };
        exec.SetAction(parse => SimCommand.Guard(parse.InvocationConfiguration.Error, () =>
            Enter(new SimRoot(parse.GetValue(rootOption)!), parse.GetValue(command)!)));
        yield return exec;

        // The second half, run by unshare inside the new namespace; not for users.
        var inside = new Command("exec-inside") { rootOption, command };
        inside.Hidden = true;
        inside.SetAction(parse => SimCommand.Guard(parse.InvocationConfiguration.Error, () =>
            MountAndExecute(new SimRoot(parse.GetValue(rootOption)!), parse.GetValue(command)!)));
        yield return inside;
    }

    private static int Enter(SimRoot root, string[] command)
    {
        _ = SimControl.Send(root, "status");
        var start = new ProcessStartInfo("unshare");
        foreach (var argument in (string[])["--mount", "--propagation", "private", "--", Environment.ProcessPath!, "sim", "exec-inside", "--root", root.Directory, "--", .. command])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static unsafe int MountAndExecute(SimRoot root, string[] command)
    {
        SimNamespace.StandIn(root);
        var arguments = command.Select(argument => Marshal.StringToCoTaskMemUTF8(argument)).ToArray();
        var argv = stackalloc byte*[arguments.Length + 1];
        for (var i = 0; i < arguments.Length; i++)
        {
            argv[i] = (byte*)arguments[i];
        }
        argv[arguments.Length] = null;
        Console.Out.Flush();
        Libc.execvp(argv[0], argv);
        var errno = (Errno)Marshal.GetLastPInvokeError();
        throw new SimException($"cannot run {command[0]}: {SysfsException.Describe(errno)}");
    }
}
