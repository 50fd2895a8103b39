using System.CommandLine;
using Mdevkit.Simulation;
using Mdevkit.Simulation.Profiles;
using Mdevkit.SimHost;

namespace Mdevkit.Cli.Commands;

/// <summary><c>mdevkit sim</c>: the simulated host.</summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var profile = ProfileOption();
        var sim = new Command("sim", "Run a tour of a simulated host: its parents, types and available instances, a device created and removed on each parent")
        {
            profile,
        };
        sim.SetAction(parse => WithProfile(parse, profile, host => SimTour.Run(host, parse.InvocationConfiguration.Output)));

        var profiles = new Command("profiles", "List the built-in host profiles");
        profiles.SetAction(parse => ListProfiles(parse.InvocationConfiguration.Output));
        sim.Subcommands.Add(profiles);

        var root = new Option<string>("--root", "-r")
        {
            Description = $"The simulator's root directory (default {SimRoot.DefaultDirectory})",
            DefaultValueFactory = _ => SimRoot.DefaultDirectory,
        };
        sim.Subcommands.Add(Sim.SimUpCommand.Create(ProfileOption(), root));
        foreach (var command in Sim.SimControlCommands.Create(root).Concat(Sim.SimExecCommand.Create(root)))
        {
            sim.Subcommands.Add(command);
        }
        return sim;
    }

    /// <summary>Runs a simulator verb and turns its expected failures into a message and exit 1.</summary>
    public static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is SimException or ProfileException)
        {
            error.WriteLine($"mdevkit: {e.Message}");
            return 1;
        }
    }

    private static Option<string> ProfileOption() => new("--profile", "-p")
    {
        Description = "A built-in profile name (see 'mdevkit sim profiles') or the path of a profile JSON file",
        DefaultValueFactory = _ => "default",
    };

    private static int WithProfile(ParseResult parse, Option<string> option, Func<SimulatedHost, int> action)
    {
        HostProfile profile;
        try
        {
            profile = HostProfile.Load(parse.GetValue(option)!);
        }
        catch (ProfileException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"mdevkit: {e.Message}");
            return 1;
        }
        return action(SimulatedHost.Boot(profile));
    }

    private static int ListProfiles(TextWriter output)
    {
        foreach (var name in HostProfile.BuiltInNames)
        {
            output.WriteLine($"{name,-10} {HostProfile.Load(name).Description}");
        }
        return 0;
    }
}
