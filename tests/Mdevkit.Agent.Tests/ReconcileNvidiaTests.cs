using System.Net;
using System.Text.Json;
using Mdevkit.Management;
using Mdevkit.SimHost;
using Mdevkit.Sysfs;
using Microsoft.Extensions.DependencyInjection;

namespace Mdevkit.Agent.Tests;

/// <summary>Declared vGPUs on virtual functions: the GPU's functions are enabled first, at start and after every reboot.</summary>
public sealed class ReconcileNvidiaTests : IAsyncLifetime
{
    private const string Ada = "7d2f0c60-0d7a-4c4e-9b8e-4a61f5a0c0ad";
    private const string L40SFunction = "0000:81:00.5";
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync() => _agent = await AgentFixture.StartAsync("nvidia-mixed", nameof(ReconcileNvidiaTests));

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private HashSet<ActiveDevice> Active() => [.. _agent.Agent.Services.GetRequiredService<ManagedHost>().Kernel.Active()];

    [Fact]
    public async Task VgpuOnAFunction_EnablesTheFunctionsFirst_AgainAfterAReboot()
    {
        ReconcileSupport.Declare(_agent.Root.Directory, $$"""{ "devices": [{ "uuid": "{{Ada}}", "parent": "{{L40SFunction}}", "mdev_type": "nvidia-1165" }] }""");
        using var response = await _agent.Client.PostAsync("/v1/reconcile", null, TestContext.Current.CancellationToken);
        var view = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        var made = Active();

        SimControl.Send(_agent.Root, "reboot");
        await ReconcileSupport.WaitForAsync(() => Active().SetEquals(made), () => $"after the reboot: {string.Join(", ", Active())}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("converged", view.GetProperty("state").GetString());
        Assert.Equal([new ActiveDevice(Guid.Parse(Ada), L40SFunction, "nvidia-1165")], made);
        Assert.Equal(32, int.Parse(File.ReadAllText(_agent.Join("sys/bus/pci/devices/0000:81:00.0/sriov_numvfs")), System.Globalization.CultureInfo.InvariantCulture));
    }
}
