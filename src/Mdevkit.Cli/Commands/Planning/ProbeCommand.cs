using System.CommandLine;
using System.Runtime.InteropServices;
using Mdevkit.Cli.Mdevctl;
using Mdevkit.Management.Planning;

namespace Mdevkit.Cli.Commands.Planning;

/// <summary><c>mdevkit probe PARENT</c>: learn and store a parent's capacity model with throw-away devices.</summary>
internal static class ProbeCommand
{
    /// <summary>The shell's exit status for a command ended by SIGINT.</summary>
    private const int Interrupted = 130;

    public static Command Create()
    {
        var parent = new Argument<string>("PARENT") { Description = "An idle parent device, as sys/class/mdev_bus names it" };
        var yes = MdevctlOptions.Flag("--yes", "-y", "Do not ask before creating throw-away devices");
        var json = MdevctlOptions.Flag("--json", null, "Print the model as JSON");
        return PlanningContext.Command("probe", "Learn how a parent's types share its capacity, by creating and removing throw-away devices", [parent, yes, json], (parse, context) =>
        {
            var name = parse.GetValue(parent)!;
            context.Probe.RequireIdle(name);
            if (!parse.GetValue(yes) && !Confirm(context.Mdevctl.Error, name))
            {
                context.Mdevctl.Error.Write("Probe cancelled; nothing was changed\n");
                return 1;
            }
            using var cancellation = new CancellationTokenSource();
            // Ctrl-C or a TERM must not kill the process between a create and its remove: it asks the probe
            // to stop, and the probe removes what it made before returning.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
            try
            {
                var model = context.Probe.Probe(name, cancellation.Token);
                context.Mdevctl.Output.Write(parse.GetValue(json) ? CapacityStore.ToJson(model) : PlanningText.Model(model));
                return 0;
            }
            catch (OperationCanceledException)
            {
                context.Mdevctl.Error.Write("Probe interrupted; every device it made was removed\n");
                return Interrupted;
            }

            void Cancel(PosixSignalContext signal)
            {
                signal.Cancel = true;
                cancellation.Cancel();
            }
        });
    }

    private static bool Confirm(TextWriter prompt, string parent)
    {
        prompt.Write($"Probing {parent} creates and removes throw-away devices of each of its types. Continue? [y/N] ");
        prompt.Flush();
        return Console.In.ReadLine()?.Trim().ToUpperInvariant() is "Y" or "YES";
    }
}
