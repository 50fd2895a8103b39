using System.Diagnostics;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// Commands started at once on one root, as real processes: each that says it changed something did, and
/// every all-or-nothing operation stays all or nothing. Every process is started before any is waited for.
/// </summary>
public sealed class ConcurrencyTests : IDisposable
{
    private const string Callouts = "usr/lib/mdevctl/scripts.d/callouts";
    private readonly TempRoot _root = new(nameof(ConcurrencyTests));

    public ConcurrencyTests()
    {
        foreach (var directory in new[] { "etc/mdevctl.d", Callouts, "usr/lib/mdevctl/scripts.d/notifiers" })
        {
            Directory.CreateDirectory(_root.Join(directory));
        }
    }

    public void Dispose() => _root.Dispose();

    private CommandResult Mdevkit(params string[] arguments) => RunningSimulator.Run([.. arguments, "--root", _root.Path]);

    // Starts every command, then waits for each.
    private static CommandResult[] RunAtOnce(IEnumerable<string[]> commands) => [.. commands.Select(Begin).ToList().Select(Finish)];

    private static (Process Process, Task<string> Output, Task<string> Error) Begin(string[] arguments)
    {
        var start = new ProcessStartInfo(RunningSimulator.Mdevkit) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start)!;
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    private static CommandResult Finish((Process Process, Task<string> Output, Task<string> Error) command)
    {
        using var process = command.Process;
        process.WaitForExit();
        return new CommandResult(process.ExitCode, command.Output.Result, command.Error.Result);
    }

    private Guid[] DefineDevices(string parent, string type, int count) => [.. Enumerable.Range(0, count).Select(_ =>
    {
        var define = Mdevkit("define", "-p", parent, "-t", type);
        Assert.True(define.ExitCode == 0, define.Error);
        return Guid.Parse(define.Output);
    })];

    [Fact]
    public void Define_TwelveOfOneUuidAtOnce_OneWinsAndTheOthersAreToldItIsDefined()
    {
        var uuid = Guid.NewGuid();

        var results = RunAtOnce(Enumerable.Range(0, 12).Select(i => new[] { "define", "-u", $"{uuid}", "-p", "mdpy", "-t", $"type-{i}", "--root", _root.Path }));

        var winner = Assert.Single(Enumerable.Range(0, 12), i => results[i].ExitCode == 0);
        Assert.All(results.Where((_, i) => i != winner), result =>
            Assert.Equal((1, $"Error: Device {uuid} on mdpy already defined\n"), (result.ExitCode, result.Error)));
        Assert.Contains($"\"mdev_type\": \"type-{winner}\"", File.ReadAllText(_root.Join($"etc/mdevctl.d/mdpy/{uuid}")), StringComparison.Ordinal);
    }

    [Fact]
    public void GroupAdd_TenAtOnce_KeepsEveryMember()
    {
        var devices = DefineDevices("mdpy", "mdpy-vga", 10);

        var results = RunAtOnce(devices.Select(uuid => new[] { "group", "add", "vm1", $"{uuid}", "--root", _root.Path }));

        Assert.All(results, result => Assert.True(result.ExitCode == 0, result.Error));
        var listed = Mdevkit("group", "list", "vm1").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(devices.Select(uuid => $"vm1 {uuid}").Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ListAndDefine_TemporaryFileOfAKilledDefine_IsIgnoredAndSweptAway()
    {
        var uuid = Guid.NewGuid();
        // What a define killed between writing its temporary file and renaming it leaves behind.
        var leftover = $"etc/mdevctl.d/mdpy/.{uuid}.{Environment.ProcessId}.tmp";
        _root.File(leftover, "{\n  \"mdev_type\": \"mdpy-v");

        var listed = Mdevkit("list", "-d");
        var defined = Mdevkit("define", "-u", $"{uuid}", "-p", "mdpy", "-t", "mdpy-vga");

        Assert.Equal((0, "", ""), (listed.ExitCode, listed.Output, listed.Error));
        Assert.Equal((0, ""), (defined.ExitCode, defined.Error));
        Assert.Equal([$"{uuid}"], Directory.GetFiles(_root.Join("etc/mdevctl.d/mdpy")).Select(Path.GetFileName));
    }

    [Fact]
    public void Define_CalloutScriptThatDefinesOnTheSameRoot_RunsUnderItsCallersLock()
    {
        var inner = Guid.NewGuid();
        var script = _root.Join($"{Callouts}/define-another.sh");
        File.WriteAllText(script, $$"""
            #!/bin/sh
            cat > /dev/null
            if [ "$4" = pre ] && [ "$6" = define ] && [ "${10}" != {{inner}} ]; then
              exec '{{RunningSimulator.Mdevkit}}' define -u {{inner}} -p mdpy -t mdpy-xga --root '{{_root.Path}}'
            fi
            exit 2
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var outer = Mdevkit("define", "-p", "mdpy", "-t", "mdpy-vga");

        Assert.True(outer.ExitCode == 0, outer.Error);
        Assert.Equal(new[] { $"{inner}", outer.Output.Trim() }.Order(StringComparer.Ordinal), Directory.GetFiles(_root.Join("etc/mdevctl.d/mdpy")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    // The first command is held inside its lock halfway through the group (a callout script waits at the
    // 11th member), and only then is the second started: it must wait for the whole of the first, so the
    // group ends all running or all stopped, and which one is known.
    [Theory]
    [InlineData("start", "stop")]
    [InlineData("stop", "start")]
    public void GroupStartAndStop_SecondArrivesHalfwayThroughTheFirst_WaitsForAllOfIt(string first, string second)
    {
        using var simulator = new RunningSimulator("samples", nameof(ConcurrencyTests));
        var root = simulator.Root;
        var devices = Enumerable.Range(0, 20).Select(_ => RunningSimulator.Run("define", "-p", "mtty", "-t", "mtty-1", "--root", root)).Select(define =>
        {
            Assert.True(define.ExitCode == 0, define.Error);
            return define.Output.Trim();
        }).ToArray();
        var add = RunningSimulator.Run(["group", "add", "vm1", .. devices, "--root", root]);
        Assert.True(add.ExitCode == 0, add.Error);
        if (first == "stop")
        {
            var start = RunningSimulator.Run("start", "--group", "vm1", "--root", root);
            Assert.True(start.ExitCode == 0, start.Error);
        }
        var (reached, release) = (simulator.Join("reached"), simulator.Join("release"));
        var script = simulator.Join("usr/lib/mdevctl/scripts.d/callouts/hold.sh");
        File.WriteAllText(script, $"""
            #!/bin/sh
            cat > /dev/null
            if [ "$4" = pre ] && [ "$6" = {first} ] && [ "${"{"}10{"}"}" = {devices[10]} ]; then
              touch '{reached}'
              while [ ! -e '{release}' ]; do sleep 0.01; done
            fi
            exit 0
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var firstCommand = Begin([first, "--group", "vm1", "--root", root]);
        WaitFor(() => File.Exists(reached) || firstCommand.Process.HasExited);
        var secondCommand = Begin([second, "--group", "vm1", "--root", root]);
        var secondWaited = !secondCommand.Process.WaitForExit(TimeSpan.FromMilliseconds(500));
        File.WriteAllText(release, "");
        var results = new[] { Finish(firstCommand), Finish(secondCommand) };

        Assert.All(results, result => Assert.True(result.ExitCode == 0, result.Error));
        Assert.True(secondWaited, $"{second} --group finished while {first} --group was halfway");
        var lines = results.Select(result => result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var running = Directory.GetFileSystemEntries(simulator.Join("sys/bus/mdev/devices")).Length;
        Assert.Equal((20, 20, second == "start" ? 20 : 0), (lines.First(), lines.Last(), running));
    }

    private static void WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            Thread.Sleep(10);
        }
    }
}
