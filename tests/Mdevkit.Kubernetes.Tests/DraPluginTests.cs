using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>mdevkit-dra as a process, registered and driven by the fake kubelet, over a FUSE-mounted simulator and the API server double.</summary>
public sealed class DraPluginTests
{
    [Fact]
    public async Task Registration_FakeKubelet_GetsDriverEndpointAndBothVersions()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();

        Assert.Equal(DraNames.Driver, plugin.Info.Name);
        Assert.Equal(node.Paths.Endpoint, plugin.Info.Endpoint);
        Assert.Equal(["v1.DRAPlugin", "v1beta1.DRAPlugin"], plugin.Info.SupportedVersions);
        Assert.Equal("v1.DRAPlugin", plugin.Version);
        Assert.True(File.Exists(node.Paths.RegistrationSocket));
    }

    [Fact]
    public async Task Prepare_AllocatedClaim_MakesTheMdevAndWritesCdiAndMetadata()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-2-0"));

        var answer = (await plugin.PrepareAsync(claim))[claim.Uid];

        var uuid = MdevUuid.Format(DeviceUuids.For(claim.Uid, "gpu"));
        Assert.Equal("", answer.Error);
        var device = Assert.Single(answer.Devices);
        Assert.Equal(["gpu"], device.RequestNames);
        Assert.Equal((DraFixture.Node, "mtty-mtty-2-0"), (device.PoolName, device.DeviceName));
        Assert.Equal([$"mdev.mdevkit.io/vfio={uuid}", $"mdev.mdevkit.io/metadata={claim.Uid}_gpu"], device.CdiDeviceIds);
        Assert.Equal([uuid], node.Mdevs());
        Assert.Equal("mtty-2", Path.GetFileName(new DirectoryInfo(Path.Join(node.Root, "sys/bus/mdev/devices", uuid, "mdev_type")).ResolveLinkTarget(true)!.FullName));
        var group = Path.GetFileName(new DirectoryInfo(Path.Join(node.Root, "sys/bus/mdev/devices", uuid, "iommu_group")).ResolveLinkTarget(true)!.FullName);
        Assert.Equal($$"""
            {
              "cdiVersion": "0.6.0",
              "kind": "mdev.mdevkit.io/vfio",
              "devices": [
                {
                  "name": "{{uuid}}",
                  "containerEdits": {
                    "deviceNodes": [
                      {
                        "path": "/dev/vfio/vfio"
                      },
                      {
                        "path": "/dev/vfio/{{group}}"
                      }
                    ]
                  }
                }
              ]
            }

            """, File.ReadAllText(node.Paths.VfioSpec(claim.Uid)));
        var metadataFile = node.Paths.MetadataFile("vms", "vm-a", "gpu");
        Assert.Equal($$"""
            {
              "cdiVersion": "0.6.0",
              "kind": "mdev.mdevkit.io/metadata",
              "devices": [
                {
                  "name": "{{claim.Uid}}_gpu",
                  "containerEdits": {
                    "mounts": [
                      {
                        "hostPath": "{{metadataFile}}",
                        "containerPath": "/var/run/dra-device-attributes/vm-a/gpu/mdev.mdevkit.io-metadata.json",
                        "options": [
                          "ro",
                          "bind"
                        ]
                      }
                    ]
                  }
                }
              ]
            }

            """, File.ReadAllText(node.Paths.MetadataSpec(claim.Uid)));
        Assert.Equal($$"""
            {
              "apiVersion": "metadata.resource.k8s.io/v1alpha1",
              "kind": "DeviceMetadata",
              "metadata": {
                "name": "vm-a",
                "namespace": "vms",
                "uid": "{{claim.Uid}}",
                "generation": 1
              },
              "requests": [
                {
                  "name": "gpu",
                  "devices": [
                    {
                      "name": "mtty-mtty-2-0",
                      "driver": "mdev.mdevkit.io",
                      "pool": "node-1",
                      "attributes": {
                        "mdevUUID": {
                          "string": "{{uuid}}"
                        }
                      }
                    }
                  ]
                }
              ]
            }

            """, File.ReadAllText(metadataFile));
    }

    [Fact]
    public async Task Prepare_Retried_SameDeviceNoSecond()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-1-0"));

        var first = (await plugin.PrepareAsync(claim))[claim.Uid];
        var second = (await plugin.PrepareAsync(claim))[claim.Uid];

        Assert.Equal("", second.Error);
        Assert.Equal(first.Devices, second.Devices);
        Assert.Equal([MdevUuid.Format(DeviceUuids.For(claim.Uid, "gpu"))], node.Mdevs());
    }

    [Fact]
    public async Task Prepare_TwoDevicesOfOneRequest_AnMdevEachUnpreparedTogether()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-1-0"), ("gpu", "mtty-mtty-1-1"));

        var answer = (await plugin.PrepareAsync(claim))[claim.Uid];

        Assert.Equal("", answer.Error);
        string[] uuids = [MdevUuid.Format(DeviceUuids.For(claim.Uid, "gpu")), MdevUuid.Format(DeviceUuids.For(claim.Uid, "gpu", 1))];
        Assert.Equal(uuids.Order(StringComparer.Ordinal), node.Mdevs());
        Assert.Equal(uuids, answer.Devices.Select(device => device.CdiDeviceIds[0]["mdev.mdevkit.io/vfio=".Length..]));
        Assert.Equal("", (await plugin.UnprepareAsync(claim))[claim.Uid].Error);
        Assert.Empty(node.Mdevs());
    }

    [Fact]
    public async Task Prepare_V1Beta1Kubelet_PreparesAndUnprepares()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync(["v1beta1.DRAPlugin"]);
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-1-0"));

        var answer = (await plugin.PrepareAsync(claim))[claim.Uid];
        Assert.Equal("v1beta1.DRAPlugin", plugin.Version);
        Assert.Equal("", answer.Error);
        Assert.Single(node.Mdevs());

        Assert.Equal("", (await plugin.UnprepareAsync(claim))[claim.Uid].Error);
        Assert.Empty(node.Mdevs());
    }

    [Fact]
    public async Task Unprepare_Twice_RemovesDeviceAndFilesThenSucceedsAgain()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-1-0"), ("serial", "mtty-mtty-1-1"));
        Assert.Equal("", (await plugin.PrepareAsync(claim))[claim.Uid].Error);
        Assert.Equal(2, node.Mdevs().Count);

        Assert.Equal("", (await plugin.UnprepareAsync(claim))[claim.Uid].Error);
        Assert.Equal("", (await plugin.UnprepareAsync(claim))[claim.Uid].Error);

        Assert.Empty(node.Mdevs());
        Assert.False(File.Exists(node.Paths.VfioSpec(claim.Uid)));
        Assert.False(File.Exists(node.Paths.MetadataSpec(claim.Uid)));
        Assert.False(Directory.Exists(node.Paths.MetadataClaimDirectory("vms", "vm-a")));
    }

    [Fact]
    public async Task Prepare_OtherDeviceOnTheParent_IsNeverTouched()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();
        var foreign = "11111111-2222-3333-4444-555555555555";
        File.WriteAllText(Path.Join(node.Root, "sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create"), foreign);
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-1-0"));

        Assert.Equal("", (await plugin.PrepareAsync(claim))[claim.Uid].Error);
        Assert.Equal("", (await plugin.UnprepareAsync(claim))[claim.Uid].Error);

        Assert.Equal([foreign], node.Mdevs());
    }

    [Fact]
    public async Task Prepare_ClaimsNotOursOrMissing_EachGetsItsErrorAndTheGoodOneIsPrepared()
    {
        await using var node = await DraFixture.StartAsync();
        using var plugin = await node.Kubelet.RegisterAsync();
        var good = node.Claim("vm-good", ("gpu", "mtty-mtty-1-0"));
        var otherDriver = node.Claim("vm-nic", "nic.example.com", DraFixture.Node, ("nic", "eth0"));
        var otherPool = node.Claim("vm-far", DraNames.Driver, "node-2", ("gpu", "mtty-mtty-1-0"));
        var unknownDevice = node.Claim("vm-ghost", ("gpu", "no-such-device"));
        var gone = new Protos.Dra.V1.Claim { Namespace = "vms", Name = "vm-gone", Uid = "00000000-0000-0000-0000-000000000001" };

        var answers = await plugin.PrepareAsync(good, otherDriver, otherPool, unknownDevice, gone);

        Assert.Equal("", answers[good.Uid].Error);
        Assert.Equal("claim vms/vm-nic has no device of the driver mdev.mdevkit.io", answers[otherDriver.Uid].Error);
        Assert.Equal("claim vms/vm-far: device mtty-mtty-1-0 is in pool node-2, not in this node's pool node-1", answers[otherPool.Uid].Error);
        Assert.Equal("claim vms/vm-ghost: device no-such-device is in none of this node's ResourceSlices", answers[unknownDevice.Uid].Error);
        Assert.Equal("claim vms/vm-gone: the API server refused reading it: 404 resourceclaims.resource.k8s.io \"vm-gone\" not found", answers[gone.Uid].Error);
        Assert.Single(node.Mdevs());
    }

    [Fact]
    public async Task Unprepare_AfterRestartWithTheClaimDeleted_RemovesTheDevice()
    {
        await using var node = await DraFixture.StartAsync();
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-1-0"));
        using (var plugin = await node.Kubelet.RegisterAsync())
        {
            Assert.Equal("", (await plugin.PrepareAsync(claim))[claim.Uid].Error);
        }
        Assert.Equal(0, await node.Plugin!.StopAsync());
        Assert.False(File.Exists(node.Paths.RegistrationSocket));
        node.Api.DeleteClaim("vms", "vm-a");

        await node.StartPluginAsync();
        using var restarted = await node.Kubelet.RegisterAsync();
        Assert.Single(node.Mdevs());
        Assert.Equal("", (await restarted.UnprepareAsync(claim))[claim.Uid].Error);

        Assert.Empty(node.Mdevs());
    }

    [Fact]
    public async Task Prepare_PluginKilledBeforeItCompletes_RestartRollsBackAndTheRetryPrepares()
    {
        await using var node = await DraFixture.StartAsync();
        // A post-start callout that tells the test the device is made, then holds the plugin there until it is killed.
        var reached = Path.Join(node.KubeletDirectory, "reached");
        var hold = Path.Join(node.KubeletDirectory, "hold");
        File.WriteAllText(hold, "");
        var script = Path.Join(node.Simulator.Root.ScriptDirectory, "callouts", "hold-after-start");
        File.WriteAllText(script, $"""
            #!/bin/sh
            case " $* " in *" -e post -a start "*) ;; *) exit 0 ;; esac
            rm '{hold}' 2>/dev/null || exit 0
            echo $$ > '{reached}.tmp' && mv '{reached}.tmp' '{reached}'
            exec sleep 600

            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var claim = node.Claim("vm-a", ("gpu", "mtty-mtty-1-0"));
        using var plugin = await node.Kubelet.RegisterAsync();

        var prepare = plugin.PrepareAsync(claim);
        var held = await Held(reached);
        Assert.Single(node.Mdevs());
        Assert.Contains("\"state\": \"preparing\"", File.ReadAllText(node.Paths.Checkpoint), StringComparison.Ordinal);
        await node.Plugin!.KillAsync();
        Mdevkit.TestSupport.CommandRunner.Run("kill", ["-KILL", held]);
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => prepare);

        await node.StartPluginAsync();
        Assert.Contains("Rolled back the unfinished prepare of claim vms/vm-a", node.Plugin.Log, StringComparison.Ordinal);
        Assert.Empty(node.Mdevs());
        Assert.DoesNotContain(claim.Uid, File.ReadAllText(node.Paths.Checkpoint), StringComparison.Ordinal);

        using var restarted = await node.Kubelet.RegisterAsync();
        Assert.Equal("", (await restarted.PrepareAsync(claim))[claim.Uid].Error);
        Assert.Equal([MdevUuid.Format(DeviceUuids.For(claim.Uid, "gpu"))], node.Mdevs());
    }

    [Fact]
    public async Task Options_Bad_OneErrorLineAndNonZeroExit()
    {
        await using var node = await DraFixture.StartAsync(start: false);
        foreach (var (arguments, message) in new (string[], string)[]
        {
            (["--root", "/no/such/root", "--node-name", "n"], "Error: --root /no/such/root does not exist"),
            (["--root", node.Root, "--node-name", ""], "Error: no node name: give --node-name or set NODE_NAME"),
            (["--root", node.Root, "--node-name", "n", "--server", "ftp://x"], "Error: --server ftp://x is not an http:// or https:// URL"),
            (["--root", node.Root, "--node-name", "n", "--kubeconfig", "/no/such/kubeconfig"], "Error: --kubeconfig /no/such/kubeconfig:"),
        })
        {
            await using var plugin = PluginProcess.Start(arguments, TestContext.Current.CancellationToken);
            Assert.NotEqual(0, await plugin.ExitAsync());
            var line = Assert.Single(plugin.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith(message, line, StringComparison.Ordinal);
        }
    }

    // The held callout's process id, once the script says it got there.
    private static async Task<string> Held(string reached)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!File.Exists(reached))
        {
            Assert.True(DateTime.UtcNow < deadline, "the plugin never reached its post-start callout");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        return File.ReadAllText(reached).Trim();
    }
}
