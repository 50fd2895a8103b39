using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Mdevkit.Simulation.Profiles;
using Mdevkit.SimHost;

namespace Mdevkit.Cli.Commands.Sim;

/// <summary><c>mdevkit sim up</c>: mount a simulated host at ROOT/sys and serve it, in the foreground or as a daemon.</summary>
internal static class SimUpCommand
{
    private static readonly TimeSpan s_daemonStartTimeout = TimeSpan.FromSeconds(60);

    public static Command Create(Option<string> profileOption, Option<string> rootOption)
    {
        var daemon = new Option<bool>("--daemon", "-d") { Description = "Run in the background, logging to ROOT/run/mdevkit/sim.log; return once the mount serves" };
        var log = new Option<string?>("--log") { Description = $"Write the log to this file (a new one past {RotatingLog.Cap >> 20} MiB, one old one kept as FILE.1) instead of standard error", HelpName = "FILE" };
        var command = new Command("up", "Mount a simulated host's sysfs at ROOT/sys, next to real ROOT/etc/mdevctl.d, and serve it until 'sim down' or a signal")
        {
            profileOption, rootOption, daemon, log,
        };
        command.SetAction(parse =>
        {
            var root = new SimRoot(parse.GetValue(rootOption)!);
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            return SimCommand.Guard(error, () =>
            {
                // Every directory the simulator makes lies below the root: a file there would fail each of them.
                if (File.Exists(root.Directory))
                {
                    throw new SimException($"{root.Directory} is not a directory; give a directory with --root");
                }
                return parse.GetValue(daemon)
                    ? StartDaemon(parse.GetValue(profileOption)!, root, output)
                    : RunForeground(HostProfile.Load(parse.GetValue(profileOption)!), root, parse.GetValue(log), output);
            });
        });
        return command;
    }

    private static int RunForeground(HostProfile profile, SimRoot root, string? logFile, TextWriter output)
    {
        using var log = logFile is not null ? new RotatingLog(logFile, isStandardError: true) : TextWriter.Synchronized(Console.Error);
        // What udev's rule runs: this very binary's start-parent-mdevs.
        using var service = SimService.Start(profile, root, log, [Environment.ProcessPath!, "start-parent-mdevs"]);
        // Handlers before the banner: a signal sent once the banner is read must unmount, not kill.
        var stop = new TaskCompletionSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
        output.WriteLine($"mdevkit sim: host '{profile.Name}' mounted at {root.Sys} (pid {Environment.ProcessId}); stop with Ctrl-C or 'mdevkit sim down --root {root.Directory}'");
        output.Flush();
        Task.WhenAny(stop.Task, service.Stopped).GetAwaiter().GetResult();
        return 0;
    }

    // Starts this command again in a new session with its output in the log, then waits until it answers.
    private static int StartDaemon(string profile, SimRoot root, TextWriter output)
    {
        _ = HostProfile.Load(profile);
        root.CreateDirectories();
        // A child is never a process group leader, so setsid(1) detaches it in place: the pid we hold is the daemon's.
        var start = new ProcessStartInfo("setsid");
        foreach (var argument in new[] { "sh", "-c", "umask 022; exec \"$0\" \"$@\" </dev/null >>\"$LOG\" 2>&1", Environment.ProcessPath!, "sim", "up", "--profile", profile, "--root", root.Directory, "--log", root.Log })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["LOG"] = root.Log;
        // A long-running daemon whose garbage is all short-lived: a 4 MiB first-generation budget keeps it near
        // 18 MB over 20,000 create/remove cycles, where the default budget lets the heap settle near 94 MB.
        start.Environment["DOTNET_GCgen0size"] = "400000";
        using var daemon = Process.Start(start)!;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < s_daemonStartTimeout)
        {
            if (daemon.HasExited)
            {
                throw new SimException(LastLine(root.Log).Replace("mdevkit: ", "", StringComparison.Ordinal) + $" (the simulator exited with status {daemon.ExitCode})");
            }
            try
            {
                // Only our daemon's answer counts: another simulator on this root makes ours exit above.
                if (SimControl.Send(root, "status").Contains($"pid {daemon.Id}"))
                {
                    output.WriteLine($"mdevkit sim: host '{profile}' mounted at {root.Sys} (pid {daemon.Id}; log {root.Log})");
                    return 0;
                }
                daemon.WaitForExit(TimeSpan.FromMilliseconds(50));
            }
            catch (SimException)
            {
                // Not serving yet; a daemon that dies meanwhile ends the wait early.
                daemon.WaitForExit(TimeSpan.FromMilliseconds(50));
            }
        }
        daemon.Kill();
        throw new SimException($"the simulator did not come up within {s_daemonStartTimeout.TotalSeconds} s; see {root.Log}");
    }

    private static string LastLine(string log) =>
        File.Exists(log) ? File.ReadLines(log).LastOrDefault(line => line.Length > 0) ?? "(empty log)" : "(no log)";
}
