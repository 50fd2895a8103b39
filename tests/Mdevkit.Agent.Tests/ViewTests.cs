using System.Text.Json;
using CsCheck;
using Mdevkit.Management;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// The view the agent answers reads from: after changes made around it at once (through the mount, through the
/// definitions directory, through the API), a hotplug and a reboot, it answers exactly as a fresh scan does.
/// </summary>
public sealed class ViewTests : IAsyncLifetime
{
    private const string Definition = """{"mdev_type":"mtty-1","start":"manual","attrs":[]}""";
    private AgentFixture _agent = null!;

    public async ValueTask InitializeAsync() => _agent = await AgentFixture.StartAsync(owner: nameof(ViewTests));

    public ValueTask DisposeAsync() => _agent.DisposeAsync();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static string Create(AgentFixture agent, string parent, string type) => Path.Join(agent.Root.Sys, $"class/mdev_bus/{parent}/mdev_supported_types/{type}/create");

    [Fact]
    public async Task View_AfterConcurrentChangesHotplugAndReboot_AnswersAsAFreshScan()
    {
        await using var received = await EventStream.OpenAsync(_agent.Client);
        await AssertAnswersAsAFreshScanAsync(_agent, received, "at start");

        // Six writers at once, each making, removing, defining and undefining devices its own way.
        var kinds = new (string Parent, string Type)[] { ("mtty", "mtty-1"), ("mtty", "mtty-2"), ("mdpy", "mdpy-vga"), ("mbochs", "mbochs-small") };
        await Task.WhenAll(Enumerable.Range(0, 6).Select(writer => Task.Run(async () =>
        {
            for (var round = 0; round < 6; round++)
            {
                var (parent, type) = kinds[(writer + round) % kinds.Length];
                var uuid = Guid.NewGuid();
                // A full parent refuses: that is part of the race, not a failure of the test.
                try
                {
                    await File.WriteAllTextAsync(Create(_agent, parent, type), uuid.ToString(), Cancellation);
                }
                catch (IOException)
                {
                }
                var definition = Guid.NewGuid();
                if (writer % 2 == 0)
                {
                    using var defined = await _agent.Client.PutAsync($"/v1/definitions/mtty/{definition}", new StringContent(Definition), Cancellation);
                }
                else
                {
                    Directory.CreateDirectory(Path.Join(_agent.Root.ConfigDirectory, parent));
                    await File.WriteAllTextAsync(Path.Join(_agent.Root.ConfigDirectory, $"{parent}/{definition}"), Definition.Replace("mtty-1", type, StringComparison.Ordinal), Cancellation);
                }
                if (round % 2 == 1)
                {
                    try
                    {
                        await File.WriteAllTextAsync(Path.Join(_agent.Root.Sys, $"bus/mdev/devices/{uuid}/remove"), "1", Cancellation);
                    }
                    catch (IOException)
                    {
                    }
                    File.Delete(Path.Join(_agent.Root.ConfigDirectory, $"{parent}/{definition}"));
                }
            }
        }, Cancellation)));
        await AssertAnswersAsAFreshScanAsync(_agent, received, "after the burst");

        Assert.Equal(0, (int)_agent.Simulator.Host.Unplug("mdpy"));
        await AssertAnswersAsAFreshScanAsync(_agent, received, "after mdpy was unplugged");
        Assert.Equal(0, (int)_agent.Simulator.Host.Plug("mdpy"));
        await File.WriteAllTextAsync(Create(_agent, "mdpy", "mdpy-xga"), Guid.NewGuid().ToString(), Cancellation);
        await AssertAnswersAsAFreshScanAsync(_agent, received, "after mdpy came back");

        _agent.Simulator.Host.Reboot();
        await AssertAnswersAsAFreshScanAsync(_agent, received, "after a reboot");
    }

    // A step: make a device of the n-th type offered now, remove the n-th running device, write a definition of the
    // n-th type, or remove the n-th definition.
    private static readonly Gen<(int Kind, int Pick)[]> s_steps = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1 << 20]).Array[1, 24];

    [Fact]
    public async Task View_AfterRandomMakesRemovesAndDefinitions_AnswersAsAFreshScan()
    {
        // Every driver: shared counters, per-type counts, GVT-g's pools, and an M60 that hides the types it has no room for.
        await using var agent = await AgentFixture.StartAsync("default", nameof(ViewTests) + "Random");
        await using var received = await EventStream.OpenAsync(agent.Client);
        string[] Offered() => [.. Directory.GetDirectories(Path.Join(agent.Root.Sys, "class/mdev_bus"))
            .SelectMany(parent => Directory.GetDirectories(Path.Join(parent, "mdev_supported_types")).Select(type => $"{Path.GetFileName(parent)}/{Path.GetFileName(type)}"))
            .Order(StringComparer.Ordinal)];
        await s_steps.SampleAsync(async steps =>
        {
            // The marker devices of the samples before go, so that mtty has room for this one's.
            foreach (var device in Directory.GetDirectories(Path.Join(agent.Root.Sys, "class/mdev_bus/mtty")).Where(path => Guid.TryParse(Path.GetFileName(path), out _)))
            {
                await File.WriteAllTextAsync(Path.Join(device, "remove"), "1", Cancellation);
            }
            foreach (var (kind, pick) in steps)
            {
                var offered = Offered();
                var running = Directory.GetDirectories(Path.Join(agent.Root.Sys, "bus/mdev/devices")).Order(StringComparer.Ordinal).ToArray();
                var definitions = Directory.GetFiles(agent.Root.ConfigDirectory, "*", SearchOption.AllDirectories)
                    .Where(path => Guid.TryParse(Path.GetFileName(path), out _)).Order(StringComparer.Ordinal).ToArray();
                var (parent, type) = offered[pick % offered.Length].Split('/') is [var p, var t] ? (p, t) : throw new InvalidOperationException();
                // A full parent or a device just gone refuses: that is one of the sequences, not a failure.
                try
                {
                    switch (kind)
                    {
                        case 0:
                            await File.WriteAllTextAsync(Create(agent, parent, type), Guid.NewGuid().ToString(), Cancellation);
                            break;
                        case 1 when running.Length > 0:
                            await File.WriteAllTextAsync(Path.Join(running[pick % running.Length], "remove"), "1", Cancellation);
                            break;
                        case 2:
                            Directory.CreateDirectory(Path.Join(agent.Root.ConfigDirectory, parent));
                            await File.WriteAllTextAsync(Path.Join(agent.Root.ConfigDirectory, $"{parent}/{Guid.NewGuid()}"), Definition.Replace("mtty-1", type, StringComparison.Ordinal), Cancellation);
                            break;
                        case 3 when definitions.Length > 0:
                            File.Delete(definitions[pick % definitions.Length]);
                            break;
                    }
                }
                catch (IOException)
                {
                }
            }
            await AssertAnswersAsAFreshScanAsync(agent, received, $"after {string.Join(' ', steps)}");
        }, iter: 12, threads: 1);
    }

    [Fact]
    public async Task View_OnNvidiasThreeEras_FollowsCapacitySharedByVirtualFunctionsAndVendorVgpus()
    {
        await using var agent = await AgentFixture.StartAsync("nvidia-mixed", nameof(ViewTests) + "Nvidia");
        await using var received = await EventStream.OpenAsync(agent.Client);
        // Another process managing the host, as the command line does.
        var command = new ManagedHost(new MdevctlEnvironment(agent.Root.Directory), TextWriter.Null);

        await File.WriteAllTextAsync(Path.Join(agent.Root.Sys, "bus/pci/devices/0000:41:00.0/sriov_numvfs"), "4", Cancellation);
        await File.WriteAllTextAsync(Path.Join(agent.Root.Sys, "bus/pci/devices/0000:81:00.0/sriov_numvfs"), "4", Cancellation);
        await AssertAnswersAsAFreshScanAsync(agent, received, "after virtual functions were enabled", "0000:3e:00.0", "nvidia-11");
        // A vGPU on one virtual function takes from what the others offer, without an event of theirs.
        await File.WriteAllTextAsync(Create(agent, "0000:41:00.4", "nvidia-563"), Guid.NewGuid().ToString(), Cancellation);
        command.Manager.Start(new StartRequest(Guid.NewGuid(), "0000:81:00.5", "nvidia-1155"));
        await AssertAnswersAsAFreshScanAsync(agent, received, "after vGPUs were made", "0000:3e:00.0", "nvidia-11");
    }

    // Makes a device and a definition last, waits until the stream tells both (the view is read before an event
    // goes out, and each source tells in order), then compares the API's answers with a scan of the host now.
    private static async Task AssertAnswersAsAFreshScanAsync(AgentFixture agent, EventStream received, string when,
        string parent = "mtty", string type = "mtty-1")
    {
        var marker = Guid.NewGuid();
        Directory.CreateDirectory(Path.Join(agent.Root.ConfigDirectory, parent));
        await File.WriteAllTextAsync(Path.Join(agent.Root.ConfigDirectory, $"{parent}/{marker}"), Definition.Replace("mtty-1", type, StringComparison.Ordinal), Cancellation);
        await File.WriteAllTextAsync(Create(agent, parent, type), marker.ToString(), Cancellation);
        var waiting = new HashSet<string> { "device-added", "definition-changed" };
        while (waiting.Count > 0)
        {
            var next = await received.NextAsync();
            Assert.NotEqual("events-lost", next.Type);
            if (next.Data.TryGetProperty("uuid", out var uuid) && uuid.GetString() == marker.ToString())
            {
                waiting.Remove(next.Type);
            }
        }

        var fresh = new ManagedHost(new MdevctlEnvironment(agent.Root.Directory), TextWriter.Null);
        var devices = Views.Devices(fresh.Inventory.Active(), fresh.Inventory.Defined(), Array.Empty<Guid>().ToLookup(uuid => uuid, _ => ""), _ => null);
        IReadOnlyList<ParentView> parents = [.. fresh.Inventory.Types().Select(parent => Views.Parent(parent.Parent, parent.Types, fresh.CapacityModels.TryLoad(parent.Parent)))];
        Assert.Equal(Lines(when, JsonSerializer.Serialize(devices, AgentJson.Default.IReadOnlyListDeviceView)), Lines(when, await agent.Client.GetStringAsync("/v1/devices", Cancellation)));
        Assert.Equal(Lines(when, JsonSerializer.Serialize(parents, AgentJson.Default.IReadOnlyListParentView)), Lines(when, await agent.Client.GetStringAsync("/v1/parents", Cancellation)));
    }

    // One line per device or parent, so that a difference shows where it is, after a line that says when.
    private static string[] Lines(string when, string json) => [when, .. json.Replace("},{\"", "},\n{\"", StringComparison.Ordinal).Split('\n')];
}
