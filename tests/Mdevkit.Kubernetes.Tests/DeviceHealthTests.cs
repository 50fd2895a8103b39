using Grpc.Core;
using Mdevkit.Sysfs;
using Health = Mdevkit.Kubernetes.Protos.DraHealth.V1;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// DRAResourceHealth as the kubelet watches it on the plugin's endpoint: the complete list of prepared devices, a new
/// one at once when a claim is prepared or unprepared, and when udev tells that a parent was unplugged from the mounted
/// simulator.
/// </summary>
public sealed class DeviceHealthTests
{
    // Well below the check period: a list this quick came from the change, not from the timer.
    private static readonly TimeSpan s_atOnce = TimeSpan.FromSeconds(5);

    private static async Task<Health.NodeWatchResourcesResponse> UntilAsync(IAsyncStreamReader<Health.NodeWatchResourcesResponse> stream, TimeSpan within, Func<Health.NodeWatchResourcesResponse, bool> wanted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(within);
        while (await stream.MoveNext(timeout.Token))
        {
            if (wanted(stream.Current))
            {
                return stream.Current;
            }
        }
        throw new InvalidOperationException("the health stream ended");
    }

    private static (string Device, Health.HealthStatus Health, string Message)[] Summary(Health.NodeWatchResourcesResponse response) =>
        [.. response.Devices.Select(device => (device.Device.DeviceName, device.Health, device.Message)).Order()];

    [Fact]
    public async Task Watch_PreparedDevices_HealthyAtOnce_UnhealthyWhenTheirParentIsUnplugged_GoneWhenUnprepared()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();
        using var watch = plugin.WatchHealth();
        var stream = watch.ResponseStream;
        Assert.Empty((await UntilAsync(stream, s_atOnce, _ => true)).Devices);
        var claim = node.Claim("vm-a", ("serial", "mtty-mtty-1-0"), ("display", "mdpy-mdpy-vga-0"));

        Assert.Equal("", (await plugin.PrepareAsync(claim))[claim.Uid].Error);
        var prepared = await UntilAsync(stream, s_atOnce, response => response.Devices.Count > 0);

        Assert.Equal([("mdpy-mdpy-vga-0", Health.HealthStatus.Healthy, ""), ("mtty-mtty-1-0", Health.HealthStatus.Healthy, "")], Summary(prepared));
        Assert.All(prepared.Devices, device => Assert.Equal((DraFixture.Node, 30L), (device.Device.PoolName, device.HealthCheckTimeoutSeconds)));
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - prepared.Devices[0].LastUpdatedTime, 0, 10);

        Assert.Equal(Errno.None, node.Simulator.Host.Unplug("mdpy"));
        var unplugged = await UntilAsync(stream, s_atOnce,
            response => response.Devices.Any(device => device.Health == Health.HealthStatus.Unhealthy));

        Assert.Equal([("mdpy-mdpy-vga-0", Health.HealthStatus.Unhealthy, "its parent mdpy is gone"), ("mtty-mtty-1-0", Health.HealthStatus.Healthy, "")], Summary(unplugged));

        Assert.Equal("", (await plugin.UnprepareAsync(claim))[claim.Uid].Error);
        Assert.Empty((await UntilAsync(stream, s_atOnce, response => response.Devices.Count == 0)).Devices);
        Assert.Empty(node.Mdevs());
    }
}
