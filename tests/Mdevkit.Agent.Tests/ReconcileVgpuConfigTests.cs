using System.Net;
using System.Text.Json;
using Mdevkit.Management;
using Mdevkit.Sysfs;
using Microsoft.Extensions.DependencyInjection;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// A declaration that names a config of NVIDIA's vgpu-device-manager, on a host with an M60 (GPU 0, time-sliced) and an
/// A40 (GPU 1, vGPUs on its virtual functions): the agent keeps the GPUs as the selected config asks, with devices of
/// its own beside anyone else's.
/// </summary>
public sealed class ReconcileVgpuConfigTests : IAsyncLifetime
{
    private const string M60 = "0000:3e:00.0";
    private const string A40 = "0000:41:";
    private const string ConfigFile = "etc/nvidia/vgpu-config.yaml";
    private const string Configs = """
        version: v1
        vgpu-configs:
          mixed:
            - devices: [0]
              vgpu-devices: {"M60-2Q": 2}
            - devices: [1]
              vgpu-devices: {"A40-12Q": 2}
          a40-only:
            - devices: [1]
              vgpu-devices: {"A40-12Q": 1}
          unknown-type:
            - devices: [0]
              vgpu-devices: {"M60-3Q": 1}
        """;

    private static readonly Guid s_foreign = Guid.Parse("5b1c3c1e-8f0a-4d3e-9b0e-2c7a5d1e0f01");
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync()
    {
        _agent = await AgentFixture.StartAsync("nvidia-mixed", nameof(ReconcileVgpuConfigTests));
        Directory.CreateDirectory(Path.GetDirectoryName(_agent.Join(ConfigFile))!);
        await File.WriteAllTextAsync(_agent.Join(ConfigFile), Configs, Cancellation);
        // Someone else's M60-2Q, made before any declaration.
        await File.WriteAllTextAsync(_agent.Join($"sys/class/mdev_bus/{M60}/mdev_supported_types/nvidia-18/create"), s_foreign.ToString(), Cancellation);
    }

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private List<ActiveDevice> Active() => [.. _agent.Agent.Services.GetRequiredService<ManagedHost>().Kernel.Active()];

    private void Declare(string select) =>
        ReconcileSupport.Declare(_agent.Root.Directory, $$"""{ "vgpu_config": { "file": "/{{ConfigFile}}", "select": "{{select}}" } }""");

    private async Task<JsonElement> RunAsync()
    {
        using var response = await _agent.Client.PostAsync("/v1/reconcile", null, Cancellation);
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string[] Kinds(JsonElement view) => [.. view.GetProperty("actions").EnumerateArray().Select(action => action.GetProperty("kind").GetString()!)];

    [Fact]
    public async Task SelectedConfig_IsKept_BesideSomeoneElsesDevices_AndAChangeRemovesOnlyItsOwn()
    {
        Declare("mixed");
        var first = await RunAsync();

        Assert.True(first.GetProperty("state").GetString() == "converged", first.GetRawText());
        var made = Active().Where(device => device.Uuid != s_foreign).ToList();
        Assert.Equal(["nvidia-18", "nvidia-18"], made.Where(device => device.Parent == M60).Select(device => device.Type));
        var onA40 = made.Where(device => device.Parent.StartsWith(A40, StringComparison.Ordinal)).ToList();
        Assert.Equal(["nvidia-563", "nvidia-563"], onA40.Select(device => device.Type));
        Assert.Equal(2, onA40.Select(device => device.Parent).Distinct().Count());
        Assert.Contains(new ActiveDevice(s_foreign, M60, "nvidia-18"), Active());
        Assert.Equal(made.Select(device => device.Uuid).Order(), ReconcileSupport.OwnedUuids(_agent.Root.Directory).Order());

        // As declared already: nothing to do.
        Assert.Empty(Kinds(await RunAsync()));

        // The agent may have run on the new declaration already (it watches the file): what is asked is the outcome.
        Declare("a40-only");
        var changed = await RunAsync();

        Assert.True(changed.GetProperty("state").GetString() == "converged", changed.GetRawText());
        var kept = Assert.Single(Active(), device => device.Uuid != s_foreign);
        Assert.Contains(kept, onA40);
        Assert.Contains(new ActiveDevice(s_foreign, M60, "nvidia-18"), Active());
    }

    [Fact]
    public async Task ConfigThatCannotBeRead_IsTold_WithItsPlace()
    {
        await File.WriteAllTextAsync(_agent.Join(ConfigFile), "version: v1\nvgpu-configs:\n  mixed:\n    - devices: [0]\n      vgpu-devices: [1]\n", Cancellation);
        Declare("mixed");
        var view = await RunAsync();

        Assert.Equal("invalid", view.GetProperty("state").GetString());
        Assert.StartsWith($"{_agent.Join(ConfigFile)}:5:21: ", view.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal([s_foreign], Active().Select(device => device.Uuid));
    }

    [Fact]
    public async Task TypeTheGpuDoesNotOffer_IsRefused_AndChangesNothing()
    {
        Declare("unknown-type");
        var view = await RunAsync();

        Assert.Contains($"GPU 0 ({M60}) does not offer vGPU type M60-3Q", view.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal([s_foreign], Active().Select(device => device.Uuid));
    }
}
