using System.CommandLine;
using System.Runtime.InteropServices;
using Mdevkit.Cli.Mdevctl;
using Mdevkit.Management;
using Mdevkit.Management.Events;

namespace Mdevkit.Cli.Commands;

/// <summary><c>mdevkit events</c>: the agent's live events in a terminal, until Ctrl-C; across the agent's restarts.</summary>
internal static class EventsCommand
{
    // Often enough that a restarted agent is found at once, seldom enough to cost nothing while it is away.
    private static readonly TimeSpan s_retry = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var root = MdevctlOptions.Root();
        var socket = new Option<string?>("--socket") { Description = $"The agent's socket (default: ROOT/{MdevkitPaths.AgentSocket})", HelpName = "PATH" };
        var json = MdevctlOptions.Flag("--json", null, "Print each event as the JSON the agent sends, one a line");
        var command = new Command("events", "Follow the host's events as mdevkitd tells them, until Ctrl-C") { root, socket, json };
        command.SetAction(parse =>
        {
            var (output, error) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var path = parse.GetValue(socket) ?? MdevkitPaths.AgentSocketBelow(parse.GetValue(root) ?? MdevctlEnvironment.FromEnvironment().Root);
            using var cancellation = new CancellationTokenSource();
            // Ctrl-C (or a TERM) is how one stops following: a normal end, exit 0.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var stream = new AgentEventStream(path, s_retry);
            try
            {
                FollowAsync(stream, parse.GetValue(json), output, error, cancellation.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
            }
            catch (MdevctlException e)
            {
                error.Write(e.Render());
                return 1;
            }
            return 0;

            void Stop(PosixSignalContext signal)
            {
                signal.Cancel = true;
                cancellation.Cancel();
            }
        });
        return command;
    }

    // Each event is flushed as it comes: the output is buffered for listings, and a follower must not wait for a buffer to fill.
    private static async Task FollowAsync(AgentEventStream stream, bool json, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        await foreach (var received in stream.FollowAsync(notice => error.Write($"{notice}\n"), cancellation))
        {
            output.Write($"{(json ? received.Json : received.Event.Describe())}\n");
            output.Flush();
        }
    }
}
