using System.Text.Json;
using k8s.Models;
using Mdevkit.Kubernetes.Cluster;
using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// Claims allocated on an NVIDIA SR-IOV GPU, published as one parent (its physical function): mdevkit-dra as a process
/// over the FUSE-mounted <c>nvidia-mixed</c> host puts each vGPU on a free virtual function the planner picks, enabling
/// the functions first, records the function in its checkpoint, and unprepare frees exactly that one, across a restart.
/// </summary>
public sealed class SriovPrepareTests
{
    private const string A40 = "0000:41:00.0";
    private const string L40S = "0000:81:00.0";

    // Probes the GPUs as an administrator would, then publishes the node's slices as the plugin's publisher builds them.
    private static async Task<SimulatedNode> StartAsync(params string[] gpus)
    {
        var node = await DraFixture.StartAsync(start: false, profile: "nvidia-mixed");
        var host = new ManagedHost(new MdevctlEnvironment(node.Root), TextWriter.Null);
        foreach (var gpu in gpus)
        {
            host.Probe.Probe(gpu, TestContext.Current.CancellationToken);
        }
        foreach (var slice in ResourceSliceBuilder.Build(NodeCapacityReader.Read(host, DraFixture.Node), new HashSet<Guid>(), 1))
        {
            node.Api.PutSlice(slice);
        }
        await node.StartPluginAsync();
        return node;
    }

    // The published devices of a type on a parent, in slot order.
    private static List<string> Devices(SimulatedNode node, string parent, string type) =>
    [
        .. node.Api.Slices.SelectMany(slice => slice.Spec.Devices ?? [])
            .Where(device => device.Attributes[DraNames.ParentAttribute].StringValue == parent && device.Attributes[DraNames.TypeAttribute].StringValue == type)
            .Select(device => device.Name),
    ];

    private static string NumVfs(SimulatedNode node, string gpu) => File.ReadAllText(Path.Join(node.Root, $"sys/bus/pci/devices/{gpu}/sriov_numvfs")).Trim();

    private static string Link(SimulatedNode node, string path) =>
        Path.GetFileName(new DirectoryInfo(Path.Join(node.Root, path)).ResolveLinkTarget(true)!.FullName);

    // The parent directory an mdev's bus link leads into.
    private static string ParentOf(SimulatedNode node, string uuid) =>
        Path.GetFileName(Path.GetDirectoryName(new DirectoryInfo(Path.Join(node.Root, "sys/bus/mdev/devices", uuid)).ResolveLinkTarget(true)!.FullName))!;

    private static JsonElement Metadata(SimulatedNode node, string claim) =>
        JsonDocument.Parse(File.ReadAllText(node.Paths.MetadataFile("vms", claim, "gpu"))).RootElement.GetProperty("requests")[0].GetProperty("devices")[0].GetProperty("attributes");

    private static string VfioGroupNode(SimulatedNode node, string claimUid) =>
        JsonDocument.Parse(File.ReadAllText(node.Paths.VfioSpec(claimUid))).RootElement.GetProperty("devices")[0].GetProperty("containerEdits").GetProperty("deviceNodes")[1].GetProperty("path").GetString()!;

    // Each checkpointed device's UUID and the virtual function recorded for it.
    private static Dictionary<string, string?> CheckpointDevices(SimulatedNode node) =>
        JsonDocument.Parse(File.ReadAllText(node.Paths.Checkpoint)).RootElement.GetProperty("claims").EnumerateArray()
            .SelectMany(claim => claim.GetProperty("devices").EnumerateArray())
            .ToDictionary(device => device.GetProperty("uuid").GetString()!, device => device.TryGetProperty("function", out var function) ? function.GetString() : null);

    [Fact]
    public async Task Prepare_OnAnAmpereGpu_EachClaimAnMdevOnTheNextFreeVf_UnprepareAfterARestartFreesExactlyItsVf()
    {
        await using var node = await StartAsync(A40);
        var devices = Devices(node, A40, "nvidia-563");
        Assert.Equal("0", NumVfs(node, A40));
        var first = node.Claim("vm-a", ("gpu", devices[0]));
        var second = node.Claim("vm-b", ("gpu", devices[1]));
        var b = MdevUuid.Format(DeviceUuids.For(second.Uid, "gpu"));
        using (var plugin = await node.Kubelet.RegisterAsync())
        {
            var answers = await plugin.PrepareAsync(first, second);

            Assert.Equal(("", ""), (answers[first.Uid].Error, answers[second.Uid].Error));
            Assert.Equal("32", NumVfs(node, A40));
            var a = MdevUuid.Format(DeviceUuids.For(first.Uid, "gpu"));
            Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), node.Mdevs());
            Assert.Equal(("0000:41:00.4", "0000:41:00.5"), (ParentOf(node, a), ParentOf(node, b)));
            Assert.Equal("nvidia-563", Link(node, $"sys/bus/mdev/devices/{a}/mdev_type"));
            // An Ampere vGPU is an mdev: KubeVirt takes it by UUID, the container opens the mdev's own group.
            Assert.Equal(a, Metadata(node, "vm-a").GetProperty("mdevUUID").GetProperty("string").GetString());
            Assert.Equal($"/dev/vfio/{Link(node, $"sys/bus/mdev/devices/{a}/iommu_group")}", VfioGroupNode(node, first.Uid));
            Assert.Equal(new Dictionary<string, string?> { [a] = "0000:41:00.4", [b] = "0000:41:00.5" }, CheckpointDevices(node));
            await node.Plugin!.KillAsync();
        }

        await node.StartPluginAsync();
        using var again = await node.Kubelet.RegisterAsync();
        Assert.Equal("", (await again.UnprepareAsync(first))[first.Uid].Error);
        var third = node.Claim("vm-c", ("gpu", devices[2]));
        Assert.Equal("", (await again.PrepareAsync(third))[third.Uid].Error);

        var c = MdevUuid.Format(DeviceUuids.For(third.Uid, "gpu"));
        Assert.Equal("0000:41:00.5", ParentOf(node, b));
        // The VF the first claim freed is the first free one again.
        Assert.Equal("0000:41:00.4", ParentOf(node, c));
        Assert.Equal(2, node.Mdevs().Count);
    }

    [Fact]
    public async Task Prepare_OnAVgpu17Gpu_TheVfItselfByItsPciAddress_AndUnprepareClearsItsType()
    {
        await using var node = await StartAsync(L40S);
        var devices = Devices(node, L40S, "nvidia-1155");
        using var plugin = await node.Kubelet.RegisterAsync();
        var claim = node.Claim("vm-a", ("gpu", devices[0]));
        var other = node.Claim("vm-b", ("gpu", devices[1]));

        var answers = await plugin.PrepareAsync(claim, other);

        Assert.Equal(("", ""), (answers[claim.Uid].Error, answers[other.Uid].Error));
        const string Vf = "0000:81:00.4";
        Assert.Equal(("1155", "1155"), (CurrentType(node, Vf), CurrentType(node, "0000:81:00.5")));
        Assert.Empty(node.Mdevs());
        // No mdev: KubeVirt passes the VF through by its address, the container opens the VF's group.
        var attributes = Metadata(node, "vm-a");
        Assert.Equal(["resource.kubernetes.io/pciBusID"], attributes.EnumerateObject().Select(attribute => attribute.Name));
        Assert.Equal(Vf, attributes.GetProperty("resource.kubernetes.io/pciBusID").GetProperty("string").GetString());
        Assert.Equal($"/dev/vfio/{Link(node, $"sys/bus/pci/devices/{Vf}/iommu_group")}", VfioGroupNode(node, claim.Uid));
        Assert.Equal([$"mdev.mdevkit.io/vfio={MdevUuid.Format(DeviceUuids.For(claim.Uid, "gpu"))}", $"mdev.mdevkit.io/metadata={claim.Uid}_gpu"], answers[claim.Uid].Devices[0].CdiDeviceIds);

        Assert.Equal("", (await plugin.UnprepareAsync(claim))[claim.Uid].Error);
        Assert.Equal(("0", "1155"), (CurrentType(node, Vf), CurrentType(node, "0000:81:00.5")));
        Assert.False(File.Exists(node.Paths.VfioSpec(claim.Uid)));
    }

    [Fact]
    public async Task Prepare_ASizeTheGpuCannotHoldNow_TheClaimFailsWithThePlannersReason_AndLeavesNothing()
    {
        await using var node = await StartAsync(A40);
        // Two 24 GB vGPUs fill an A40. The allocator would not give a 12 GB one beside them (compatibility groups), but
        // an allocation made from slices that were stale by then is checked again by the planner.
        var devices = Devices(node, A40, "nvidia-565");
        using var plugin = await node.Kubelet.RegisterAsync();
        var claims = devices.Select((device, index) => node.Claim($"vm-{index}", ("gpu", device))).ToArray();
        Assert.Equal(2, claims.Length);
        var twelve = node.Claim("vm-small", ("gpu", Devices(node, A40, "nvidia-563")[0]));

        var answers = await plugin.PrepareAsync([.. claims, twelve]);

        Assert.All(claims, claim => Assert.Equal("", answers[claim.Uid].Error));
        Assert.Equal("claim vms/vm-small: Cannot start a nvidia-563 on GPU 0000:41:00.0: 0000:41:00.0 holds nvidia-565 (one framebuffer size at a time)", answers[twelve.Uid].Error);
        Assert.Equal(2, node.Mdevs().Count);
        Assert.False(File.Exists(node.Paths.VfioSpec(twelve.Uid)));
    }

    private static string CurrentType(SimulatedNode node, string vf) => File.ReadAllText(Path.Join(node.Root, $"sys/bus/pci/devices/{vf}/nvidia/current_vgpu_type")).Trim();
}
