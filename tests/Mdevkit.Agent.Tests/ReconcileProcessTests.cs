using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Mdevkit.Management;
using Mdevkit.Sysfs;
using Mdevkit.TestSupport;

namespace Mdevkit.Agent.Tests;

/// <summary>The reconciler in the <c>mdevkitd</c> executable: a dry run, and a kill -9 in the middle of a change.</summary>
public sealed class ReconcileProcessTests : IDisposable
{
    private static readonly string s_mdevkitd = Path.Join(AppContext.BaseDirectory, "mdevkitd");
    private readonly SimulatedHostRoot _host = new("samples", nameof(ReconcileProcessTests));

    public void Dispose() => _host.Dispose();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private IReadOnlyList<ActiveDevice> Active() => new MdevctlEnvironment(_host.Root.Directory).Sysfs.GetActiveDevices();

    private CommandResult DryRun() => CommandRunner.Run(s_mdevkitd, ["--dry-run", "--root", _host.Root.Directory]);

    private Process StartAgent(string socket)
    {
        var start = new ProcessStartInfo(s_mdevkitd) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--root", _host.Root.Directory, "--socket", socket })
        {
            start.ArgumentList.Add(argument);
        }
        var agent = Process.Start(start)!;
        // Drained, so a chatty log never blocks the agent on a full pipe.
        agent.OutputDataReceived += (_, _) => { };
        agent.ErrorDataReceived += (_, _) => { };
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        return agent;
    }

    [Fact]
    public void DryRun_PrintsTheActions_AndChangesNothing()
    {
        ReconcileSupport.Declare(_host.Root.Directory, """{ "counts": [{ "parent": "mtty", "mdev_type": "mtty-1", "count": 2 }, { "parent": "gone", "mdev_type": "x", "count": 1 }] }""");

        var result = DryRun();

        Assert.True(result.ExitCode == 0, result.Error);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines[..2], line => Assert.Matches("^create [0-9a-f-]{36} mtty mtty-1: mtty/mtty-1: 2 declared$", line));
        Assert.Equal("drift parent-absent: 1x x wait for parent gone, which is not present", lines[2]);
        Assert.Empty(Active());
        Assert.False(File.Exists(_host.Join(MdevkitPaths.OwnedDevices)));
    }

    [Fact]
    public void DryRun_OfABadDeclaration_SaysWhereItIsWrong()
    {
        ReconcileSupport.Declare(_host.Root.Directory, "{ \"devices\": [{ \"uuid\": \"nope\", \"parent\": \"mtty\", \"mdev_type\": \"mtty-1\" }] }");

        var result = DryRun();

        Assert.Equal((1, "", $"Error: {_host.Join(MdevkitPaths.Declaration)}:1:25: not a UUID\n"), (result.ExitCode, result.Output, result.Error));
    }

    // SIGHUP reloads: the declaration is read again (a run is made though nothing changed), and the agent lives on.
    [Fact]
    public async Task Sighup_RunsTheReconcilerAgain_AndTheAgentStays()
    {
        ReconcileSupport.Declare(_host.Root.Directory, """{ "counts": [{ "parent": "mtty", "mdev_type": "mtty-1", "count": 1 }] }""");
        var socket = Path.Join(_host.Root.RunDirectory, "reconcile.sock");
        using var agent = StartAgent(socket);
        using var client = AgentFixture.ClientFor(socket);
        var first = await ConvergedAsync(client);

        Assert.Equal(0, CommandRunner.Run("kill", ["-HUP", agent.Id.ToString(CultureInfo.InvariantCulture)]).ExitCode);
        JsonElement again = default;
        await ReconcileSupport.WaitForAsync(async () =>
        {
            again = JsonDocument.Parse(await client.GetStringAsync("/v1/reconcile", Cancellation)).RootElement.Clone();
            return again.GetProperty("lastRun").GetDateTimeOffset() > first.GetProperty("lastRun").GetDateTimeOffset();
        });
        var alive = !agent.HasExited;
        Assert.Equal(0, CommandRunner.Run("kill", ["-TERM", agent.Id.ToString(CultureInfo.InvariantCulture)]).ExitCode);
        await agent.WaitForExitAsync(Cancellation);

        Assert.True(alive, "SIGHUP ended the agent");
        Assert.Equal("converged", again.GetProperty("state").GetString());
        Assert.Single(Active());
    }

    // Waits until the agent serves and has converged; answers with its state then.
    private static async Task<JsonElement> ConvergedAsync(HttpClient client)
    {
        JsonElement view = default;
        await ReconcileSupport.WaitForAsync(async () =>
        {
            try
            {
                view = JsonDocument.Parse(await client.GetStringAsync("/v1/reconcile", Cancellation)).RootElement.Clone();
                return view.GetProperty("state").GetString() == "converged";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, () => $"the agent did not converge: {view}");
        return view;
    }

    // The agent is held inside its transaction (a callout script waits at the second device's start) and killed
    // with SIGKILL there: one device is made, the journal says so. Started again, the agent rolls that device back
    // before anything else, then makes the declared devices whole, under new UUIDs it owns.
    [Fact]
    public async Task KilledMidApply_RestartRollsBackTheLeftovers_ThenReconciles()
    {
        var (reached, release, counter) = (_host.Join("reached"), _host.Join("release"), _host.Join("starts"));
        var script = _host.Join("usr/lib/mdevctl/scripts.d/callouts/hold.sh");
        File.WriteAllText(script, $"""
            #!/bin/sh
            cat > /dev/null
            if [ "$4" = pre ] && [ "$6" = start ]; then
              echo >> '{counter}'
              if [ "$(wc -l < '{counter}')" = 2 ]; then
                touch '{reached}'
                while [ ! -e '{release}' ]; do sleep 0.01; done
              fi
            fi
            exit 0
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        ReconcileSupport.Declare(_host.Root.Directory, """{ "counts": [{ "parent": "mtty", "mdev_type": "mtty-1", "count": 3 }] }""");
        var socket = Path.Join(_host.Root.RunDirectory, "reconcile.sock");

        using (var first = StartAgent(socket))
        {
            await ReconcileSupport.WaitForAsync(() => File.Exists(reached) || first.HasExited, () => "the agent never reached the second device");
            first.Kill();
            await first.WaitForExitAsync(Cancellation);
        }
        var leftover = Assert.Single(Active());
        var journal = File.Exists(_host.Join(MdevkitPaths.TransactionJournal));
        var dryRun = DryRun();
        File.Delete(script);
        File.WriteAllText(release, "");

        using var second = StartAgent(socket);
        using var client = AgentFixture.ClientFor(socket);
        var view = await ConvergedAsync(client);
        var after = Active();
        var owned = ReconcileSupport.OwnedUuids(_host.Root.Directory);
        Assert.Equal(0, CommandRunner.Run("kill", ["-TERM", second.Id.ToString(CultureInfo.InvariantCulture)]).ExitCode);
        await second.WaitForExitAsync(Cancellation);

        Assert.True(journal, "no journal was left by the killed agent");
        Assert.Contains($"roll back stop {MdevUuid.Format(leftover.Uuid)}\n", dryRun.Output, StringComparison.Ordinal);
        Assert.Equal([$"stop {MdevUuid.Format(leftover.Uuid)}"], view.GetProperty("rolledBack").EnumerateArray().Select(step => step.GetString()));
        Assert.Equal(3, after.Count);
        Assert.DoesNotContain(after, device => device.Uuid == leftover.Uuid);
        Assert.Equal(after.Select(device => device.Uuid).Order(), owned.Order());
        Assert.False(File.Exists(_host.Join(MdevkitPaths.TransactionJournal)));
    }
}
