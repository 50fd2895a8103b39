using System.Diagnostics;
using System.Text.Json;
using Mdevkit.Management;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// A device's holder: the process with its VFIO group node open, found by its descriptors in /proc. Real processes
/// (this one, and a shell started as libvirt starts QEMU) open the simulated host's real mounted node.
/// </summary>
public sealed class HolderTests : IAsyncLifetime
{
    private static readonly Guid s_device = Guid.Parse("8f9ad1f5-2f5c-4b57-9f36-4c1bd41b6b02");
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync()
    {
        _agent = await AgentFixture.StartAsync(owner: nameof(HolderTests));
        await File.WriteAllTextAsync(Path.Join(_agent.Root.Sys, "class/mdev_bus/mtty/mdev_supported_types/mtty-1/create"), s_device.ToString(), Cancellation);
        // The agent learns of the device from its udev event, a moment after the write.
        await ReconcileSupport.WaitForAsync(async () =>
        {
            using var response = await _agent.Client.GetAsync($"/v1/devices/{s_device}", Cancellation);
            return response.IsSuccessStatusCode;
        }, () => "the agent never showed the device made before the test");
    }

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private string GroupNode
    {
        get
        {
            var group = new FileInfo(Path.Join(_agent.Root.Sys, $"bus/mdev/devices/{s_device}/iommu_group")).LinkTarget!.Split('/')[^1];
            return Path.Join(_agent.Root.Dev, $"vfio/{group}");
        }
    }

    private async Task<JsonElement?> HolderAsync()
    {
        var device = Assert.Single(JsonDocument.Parse(await _agent.Client.GetStringAsync($"/v1/devices/{s_device}", Cancellation)).RootElement.EnumerateArray());
        return device.TryGetProperty("holder", out var holder) ? holder : null;
    }

    // Reads the stream up to the device's change that tells how its use went (the view was read before it went out).
    private static async Task UntilLifecycleAsync(EventStream events, string lifecycle)
    {
        while (true)
        {
            var next = await events.NextAsync();
            if (next.Type == "device-changed" && next.Data.GetProperty("uuid").GetString() == s_device.ToString()
                && next.Data.GetProperty("properties").GetProperty("MDEV_LIFECYCLE").GetString() == lifecycle)
            {
                return;
            }
        }
    }

    private static string CommandOf(int pid) => File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');

    [Fact]
    public async Task OpenedByThisProcess_ShowsItsPid_UntilReleased()
    {
        await using var events = await EventStream.OpenAsync(_agent.Client);
        Assert.Null(await HolderAsync());

        await using (var held = new FileStream(GroupNode, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0))
        {
            // The first access: the device is in use, through a descriptor of this process.
            held.WriteByte(0);
            await UntilLifecycleAsync(events, "running");
            var holder = await HolderAsync();
            Assert.NotNull(holder);
            Assert.Equal(Environment.ProcessId, holder.Value.GetProperty("pid").GetInt32());
            Assert.Equal(CommandOf(Environment.ProcessId), holder.Value.GetProperty("command").GetString());
            Assert.False(holder.Value.TryGetProperty("domain", out _));
            var listed = JsonDocument.Parse(await _agent.Client.GetStringAsync("/v1/devices", Cancellation)).RootElement.EnumerateArray()
                .Single(device => device.GetProperty("uuid").GetString() == s_device.ToString());
            Assert.Equal(Environment.ProcessId, listed.GetProperty("holder").GetProperty("pid").GetInt32());
        }

        await UntilLifecycleAsync(events, "released");
        Assert.Null(await HolderAsync());
    }

    [Fact]
    public async Task OpenedWithoutAnAccess_ShowsItsHolderWellBeforeTheNextPoll()
    {
        await using var events = await EventStream.OpenAsync(_agent.Client);
        await using var held = new FileStream(GroupNode, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        // The open's event goes out before this process has the descriptor, so the read on it finds no holder.
        await UntilLifecycleAsync(events, "open");
        var opened = Stopwatch.StartNew();

        JsonElement? holder;
        while ((holder = await HolderAsync()) is null && opened.Elapsed < HolderPoll.Interval)
        {
            await Task.Delay(20, Cancellation);
        }

        Assert.NotNull(holder);
        Assert.Equal(Environment.ProcessId, holder.Value.GetProperty("pid").GetInt32());
        // Read again shortly after the open, not at the next of the regular reads, which may be seconds away.
        Assert.True(opened.Elapsed < TimeSpan.FromSeconds(1), $"the holder showed {opened.Elapsed.TotalMilliseconds:F0} ms after the open");
    }

    [Fact]
    public async Task HeldByAGuestOfLibvirt_NamesItsDomain()
    {
        await using var events = await EventStream.OpenAsync(_agent.Client);
        // As libvirt starts QEMU: -name guest=NAME,debug-threads=on, a comma in the name doubled.
        using var guest = Process.Start(new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", "exec 3<>\"$0\" && read -r -n 1 -u 3 _ && echo held && read -r _", GroupNode, "-name", "guest=web,,1,debug-threads=on" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            Assert.Equal("held", await guest.StandardOutput.ReadLineAsync(Cancellation));
            await UntilLifecycleAsync(events, "running");

            var holder = await HolderAsync();
            Assert.NotNull(holder);
            Assert.Equal(guest.Id, holder.Value.GetProperty("pid").GetInt32());
            Assert.Equal("bash", holder.Value.GetProperty("command").GetString());
            Assert.Equal("web,1", holder.Value.GetProperty("domain").GetString());

            guest.StandardInput.Close();
            await guest.WaitForExitAsync(Cancellation);
            await UntilLifecycleAsync(events, "released");
            Assert.Null(await HolderAsync());
        }
        finally
        {
            if (!guest.HasExited)
            {
                guest.Kill();
            }
        }
    }

    [Fact]
    public async Task HeldWithoutAnEvent_IsFoundByAScan_AndByReadingHoldersAgain()
    {
        // A view no event reaches, as on a kernel that tells no open or release.
        var view = new HostView(new ManagedHost(new MdevctlEnvironment(_agent.Root.Directory), TextWriter.Null));
        var before = view.Current;
        Assert.Null(before.HolderOf(s_device));
        Assert.Same(before, view.Refresh([new HostChange.HoldersChanged()]));

        await using (var held = new FileStream(GroupNode, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0))
        {
            Assert.Equal([(s_device, "mtty")], view.RefreshHolders());
            Assert.Equal(Environment.ProcessId, view.Current.HolderOf(s_device)?.Pid);
            Assert.NotEqual(before.DevicesStamp("mtty"), view.Current.DevicesStamp("mtty"));
            Assert.Empty(view.RefreshHolders());
            Assert.Equal(Environment.ProcessId, view.RefreshAll().HolderOf(s_device)?.Pid);
        }

        Assert.Equal([(s_device, "mtty")], view.RefreshHolders());
        Assert.Null(view.Current.HolderOf(s_device));
    }
}

/// <summary>A vendor-specific VFIO vGPU (NVIDIA's vGPU 17 and later) is held through its virtual function's nodes.</summary>
public sealed class VendorHolderTests : IAsyncLifetime
{
    private const string L40S = "0000:81:00.0";
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync() => _agent = await AgentFixture.StartAsync("nvidia-mixed", nameof(VendorHolderTests));

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task VgpuOnAFunction_IsHeldThroughItsGroup_OrItsCharacterDevice(bool characterDevice)
    {
        await File.WriteAllTextAsync(_agent.Join($"sys/bus/pci/devices/{L40S}/sriov_numvfs"), "2", TestContext.Current.CancellationToken);
        var function = new FileInfo(_agent.Join($"sys/bus/pci/devices/{L40S}/virtfn1")).LinkTarget!.Split('/')[^1];
        await File.WriteAllTextAsync(_agent.Join($"sys/bus/pci/devices/{function}/nvidia/current_vgpu_type"), "1155", TestContext.Current.CancellationToken);
        var view = new HostView(new ManagedHost(new MdevctlEnvironment(_agent.Root.Directory), TextWriter.Null));
        var vgpu = Assert.Single(view.Current.ActiveDevices(), device => device.Parent == function);
        var node = characterDevice
            ? "vfio/devices/" + Directory.GetDirectories(_agent.Join($"sys/bus/pci/devices/{function}/vfio-dev")).Single().Split('/')[^1]
            : "vfio/" + new FileInfo(_agent.Join($"sys/bus/pci/devices/{function}/iommu_group")).LinkTarget!.Split('/')[^1];

        await using (var held = new FileStream(Path.Join(_agent.Root.Dev, node), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0))
        {
            Assert.Equal([(vgpu.Uuid, function)], view.RefreshHolders());
            Assert.Equal(Environment.ProcessId, view.Current.HolderOf(vgpu.Uuid)?.Pid);
        }

        Assert.Equal([(vgpu.Uuid, function)], view.RefreshHolders());
        Assert.Null(view.Current.HolderOf(vgpu.Uuid));
    }
}
