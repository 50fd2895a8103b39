using System.Net;
using System.Text.Json;
using Mdevkit.Management;
using Mdevkit.Management.Events;
using Mdevkit.SimHost;
using Mdevkit.Sysfs;
using Microsoft.Extensions.DependencyInjection;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// Declared state kept by the agent over a simulated host: what is declared comes back after a reboot and a hotplug,
/// what someone else made is never removed, a change that cannot fit changes nothing.
/// </summary>
public sealed class ReconcileTests : IAsyncLifetime
{
    private const string Declared = "7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c00d";
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync() => _agent = await AgentFixture.StartAsync(owner: nameof(ReconcileTests));

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private ManagedHost Host => _agent.Agent.Services.GetRequiredService<ManagedHost>();

    private HashSet<ActiveDevice> Active() => [.. Host.Kernel.Active()];

    private void Declare(string json) => ReconcileSupport.Declare(_agent.Root.Directory, json);

    private List<Guid> OwnedUuids() => ReconcileSupport.OwnedUuids(_agent.Root.Directory);

    // Asks for a run and answers with the state after it.
    private async Task<JsonElement> RunAsync()
    {
        using var response = await _agent.Client.PostAsync("/v1/reconcile", null, Cancellation);
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<JsonElement> ViewAsync() =>
        JsonDocument.Parse(await _agent.Client.GetStringAsync("/v1/reconcile", Cancellation)).RootElement.Clone();

    [Fact]
    public async Task Reboot_BringsBackEveryDeclaredDevice_UnderItsUuid()
    {
        Declare($$"""
            {
              "devices": [{ "uuid": "{{Declared}}", "parent": "mtty", "mdev_type": "mtty-2" }],
              "counts": [
                { "parent": "mdpy", "mdev_type": "mdpy-vga", "count": 2 },
                { "mdev_type": "mtty-1", "count": 3 }
              ]
            }
            """);
        var first = await RunAsync();
        var made = Active();

        SimControl.Send(_agent.Root, "reboot");
        await ReconcileSupport.WaitForAsync(() => Active().SetEquals(made), () => $"made: {string.Join(", ", made)}; after the reboot: {string.Join(", ", Active())}; {ViewAsync().Result}");

        Assert.Equal("converged", first.GetProperty("state").GetString());
        Assert.Equal(6, made.Count);
        Assert.Contains(made, device => device == new ActiveDevice(Guid.Parse(Declared), "mtty", "mtty-2"));
        Assert.Equal(2, made.Count(device => device.Parent == "mdpy" && device.Type == "mdpy-vga"));
        Assert.Equal(3, made.Count(device => device.Type == "mtty-1"));
        Assert.Equal(made.Select(device => device.Uuid).Order(), OwnedUuids().Order());
    }

    [Fact]
    public async Task Hotplug_ParentAwayIsDrift_ParentBackGetsItsDevicesBack()
    {
        Declare("""{ "counts": [{ "parent": "mdpy", "mdev_type": "mdpy-xga", "count": 2 }] }""");
        await RunAsync();
        var made = Active();

        SimControl.Send(_agent.Root, "hotplug remove mdpy");
        await ReconcileSupport.WaitForAsync(async () => (await ViewAsync()).GetProperty("drift").EnumerateArray().Any(drift => drift.GetProperty("kind").GetString() == "parent-absent"));
        var away = await ViewAsync();
        SimControl.Send(_agent.Root, "hotplug add mdpy");
        await ReconcileSupport.WaitForAsync(() => Active().SetEquals(made), () => $"after the hotplug: {string.Join(", ", Active())}");

        Assert.Equal("drifted", away.GetProperty("state").GetString());
        Assert.Equal("2x mdpy-xga wait for parent mdpy, which is not present", away.GetProperty("drift")[0].GetProperty("detail").GetString());
        Assert.Equal(2, made.Count);
    }

    [Fact]
    public async Task SomeoneElsesDevices_AreNeverRemoved_NorTakenForDeclaredOnes()
    {
        var foreign = Host.Manager.Start(new StartRequest(null, "mtty", "mtty-1"));
        var squatter = Host.Manager.Start(new StartRequest(Guid.Parse(Declared), "mtty", "mtty-1"));
        Declare($$"""
            {
              "devices": [{ "uuid": "{{Declared}}", "parent": "mtty", "mdev_type": "mtty-2" }],
              "counts": [{ "parent": "mtty", "mdev_type": "mtty-1", "count": 1 }]
            }
            """);
        var declared = await RunAsync();
        var ours = Assert.Single(OwnedUuids());
        Declare("""{ "counts": [] }""");
        var emptied = await RunAsync();

        Assert.Equal("drifted", declared.GetProperty("state").GetString());
        var drift = Assert.Single(declared.GetProperty("drift").EnumerateArray());
        Assert.Equal("not-owned", drift.GetProperty("kind").GetString());
        Assert.Equal("converged", emptied.GetProperty("state").GetString());
        Assert.Equal(new[] { foreign, squatter }.Order(), Active().Select(device => device.Uuid).Order());
        Assert.DoesNotContain(ours, new[] { foreign, squatter });
        Assert.Empty(OwnedUuids());
    }

    [Fact]
    public async Task ChangeThatCannotFit_ChangesNothing_AndSaysWhy()
    {
        Declare("""{ "counts": [{ "parent": "mdpy", "mdev_type": "mdpy-vga", "count": 2 }, { "mdev_type": "mtty-2", "count": 1 }] }""");
        await RunAsync();
        var before = Active();
        var owned = File.ReadAllText(_agent.Join(MdevkitPaths.OwnedDevices));

        // mdpy takes 4 devices in all; mtty-2 is no longer declared, so its device would go if the change were applied.
        Declare("""{ "counts": [{ "parent": "mdpy", "mdev_type": "mdpy-vga", "count": 5 }] }""");
        var refused = await RunAsync();

        Assert.Equal(before, Active());
        Assert.Equal(owned, File.ReadAllText(_agent.Join(MdevkitPaths.OwnedDevices)));
        Assert.Equal("refused", refused.GetProperty("state").GetString());
        Assert.Equal("The declaration cannot fit this host; nothing was changed", refused.GetProperty("error").GetString());
        var misfit = Assert.Single(refused.GetProperty("drift").EnumerateArray());
        Assert.Equal(("cannot-fit", "3x mdpy-vga cannot fit: mdpy cannot hold them beside what runs there"),
            (misfit.GetProperty("kind").GetString(), misfit.GetProperty("detail").GetString()));
        // The edit's own run may have been refused before the one asked for: each counts.
        Assert.InRange(refused.GetProperty("failures").GetInt32(), 1, 2);
        Assert.True(refused.GetProperty("nextRetry").GetDateTimeOffset() > refused.GetProperty("lastRun").GetDateTimeOffset());
        Assert.Contains("mdevkit_reconcile_state{state=\"refused\"} 1", await _agent.Client.GetStringAsync("/metrics", Cancellation), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actions_AreToldAsEvents_AndCounted()
    {
        Declare("""{ "counts": [{ "parent": "mtty", "mdev_type": "mtty-1", "count": 2 }] }""");
        await RunAsync();

        var hub = _agent.Agent.Services.GetRequiredService<EventHub>();
        var replay = hub.Subscribe(0)!;
        var actions = new List<AgentEvent>();
        while (replay.Reader.TryRead(out var published))
        {
            if (published.Type == "reconcile-action")
            {
                actions.Add(published);
            }
        }
        hub.Unsubscribe(replay);
        var metrics = await _agent.Client.GetStringAsync("/metrics", Cancellation);

        Assert.Equal(2, actions.Count);
        Assert.All(actions, action => Assert.Equal(("mtty", "create", "mtty-1"), (action.Parent, action.Properties!["kind"], action.Properties["type"])));
        Assert.Contains("mdevkit_reconcile_actions_total{kind=\"create\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("mdevkit_reconcile_state{state=\"converged\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeclarationThatCannotBeRead_IsTold_WithItsPlace()
    {
        Declare("{ \"counts\": [\n  { \"mdev_type\": \"mtty-1\", \"count\": \"two\" }\n] }");
        var view = await RunAsync();

        Assert.Equal("invalid", view.GetProperty("state").GetString());
        Assert.Equal($"{_agent.Join(MdevkitPaths.Declaration)}:2:37: unexpected field or value at $.counts[0].count", view.GetProperty("error").GetString());
        Assert.Empty(Active());
    }
}
