using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary><c>mdevkit reconcile</c>: the agent's reconciler run once from the command line, on a mounted simulated host.</summary>
public sealed class ReconcileCommandTests : IDisposable
{
    private readonly RunningSimulator _simulator = new("samples", nameof(ReconcileCommandTests));

    public void Dispose() => _simulator.Dispose();

    private CommandResult Mdevkit(params string[] arguments) => RunningSimulator.Run([.. arguments, "--root", _simulator.Root]);

    private string[] ActiveDevices() =>
        [.. Directory.GetFileSystemEntries(_simulator.Join("sys/bus/mdev/devices")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    private void Declare(string json)
    {
        Directory.CreateDirectory(_simulator.Join("etc/mdevkit"));
        File.WriteAllText(_simulator.Join("etc/mdevkit/host.json"), json);
    }

    [Fact]
    public void Reconcile_MakesWhatIsDeclared_ThenRemovesOnlyWhatItMade()
    {
        var foreign = Mdevkit("start", "-p", "mtty", "-t", "mtty-1").Output.Trim();
        Declare("""{ "counts": [{ "parent": "mtty", "mdev_type": "mtty-1", "count": 2 }] }""");

        var dryRun = Mdevkit("reconcile", "--dry-run");
        var beforeRun = ActiveDevices();
        var run = Mdevkit("reconcile");
        var made = ActiveDevices();
        var again = Mdevkit("reconcile");
        Declare("{}");
        var emptied = Mdevkit("reconcile");

        Assert.Equal(2, dryRun.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal([foreign], beforeRun);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(dryRun.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[("create ".Length + 36)..]), run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[("create ".Length + 36)..]));
        Assert.Equal(3, made.Length);
        Assert.Equal((0, ""), (again.ExitCode, again.Output));
        Assert.Equal(2, emptied.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(line => line.StartsWith("remove ", StringComparison.Ordinal)));
        Assert.Equal([foreign], ActiveDevices());
    }

    [Fact]
    public void Reconcile_ThatCannotFit_ChangesNothing_AndExitsOne()
    {
        Declare("""{ "counts": [{ "parent": "mdpy", "mdev_type": "mdpy-vga", "count": 9 }] }""");

        var result = Mdevkit("reconcile");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("drift cannot-fit: 9x mdpy-vga cannot fit: mdpy cannot hold them beside what runs there\n", result.Output);
        Assert.Equal("Error: The declaration cannot fit this host; nothing was changed\n", result.Error);
        Assert.Empty(ActiveDevices());
    }
}
