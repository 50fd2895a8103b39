using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// systemd's <c>udevadm monitor --udev</c> inside <c>mdevkit sim exec</c>: it hears the simulator's events as udevd's,
/// with the variables of each device's uevent file, and its in-kernel filters (subsystem hash, tag bloom) work on them.
/// </summary>
public sealed class UdevMonitorTests
{
    private const string Uuid = "5d0b2a58-8c5e-4f0f-9d39-6b1a8e2f4c11";
    private const string Gpu = "/devices/pci0000:00/0000:00:02.0";
    private const string Mtty = "/devices/virtual/mtty/mtty";

    [Fact]
    public void Monitor_SeesAddRemoveAndChange_ForMdevsAndParents_AndFilters()
    {
        using var simulator = new RunningSimulator("default", nameof(UdevMonitorTests));
        var work = simulator.Root;

        // Each monitor's output is line-buffered to a file; one has started once its banner is there.
        var run = simulator.ExecBash($"""
            set -u
            pids=
            for spec in all "pci --subsystem-match=pci" "mdev --tag-match=mdevkit --subsystem-match=mdev" "none --tag-match=other"; do
              set -- $spec; name=$1; shift
              stdbuf -oL udevadm monitor --udev --property "$@" > "{work}/$name.out" 2>&1 &
              pids="$pids $!"
            done
            for name in all pci mdev none; do
              for i in $(seq 100); do grep -q '^UDEV - ' "{work}/$name.out" 2>/dev/null && break; sleep 0.1; done
            done
            echo {Uuid} > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create
            echo change > /sys/bus/pci/devices/0000:00:02.0/uevent
            echo 1 > /sys/bus/mdev/devices/{Uuid}/remove
            {RunningSimulator.Mdevkit} sim hotplug remove 0000:00:02.0 --root {work}
            {RunningSimulator.Mdevkit} sim hotplug add 0000:00:02.0 --root {work}
            # The last event is the GPU's bind, the second bind of the run (the mdev's was the first).
            for i in $(seq 100); do [ "$(grep -c '^ACTION=bind$' "{work}/all.out")" -ge 2 ] && break; sleep 0.1; done
            kill $pids; wait
            """);

        Assert.Equal(new CommandResult(0, "", ""), run with { Output = "" });
        var all = Events(simulator, "all");
        Assert.Equal([
            $"ACTION=add DEVPATH={Mtty}/{Uuid} SUBSYSTEM=mdev",
            $"ACTION=bind DEVPATH={Mtty}/{Uuid} SUBSYSTEM=mdev DRIVER=mtty",
            $"ACTION=change DEVPATH={Gpu} SUBSYSTEM=pci DRIVER=i915 PCI_CLASS=30000 PCI_ID=8086:3E92 PCI_SLOT_NAME=0000:00:02.0",
            $"ACTION=unbind DEVPATH={Mtty}/{Uuid} SUBSYSTEM=mdev DRIVER=mtty",
            $"ACTION=remove DEVPATH={Mtty}/{Uuid} SUBSYSTEM=mdev",
            $"ACTION=change DEVPATH={Gpu} SUBSYSTEM=pci MDEV_STATE=unregistered DRIVER=i915 PCI_CLASS=30000 PCI_ID=8086:3E92 PCI_SLOT_NAME=0000:00:02.0",
            $"ACTION=unbind DEVPATH={Gpu} SUBSYSTEM=pci DRIVER=i915 PCI_CLASS=30000 PCI_ID=8086:3E92 PCI_SLOT_NAME=0000:00:02.0",
            $"ACTION=remove DEVPATH={Gpu} SUBSYSTEM=pci PCI_CLASS=30000 PCI_ID=8086:3E92 PCI_SLOT_NAME=0000:00:02.0",
            $"ACTION=add DEVPATH={Gpu} SUBSYSTEM=pci DRIVER=i915 PCI_CLASS=30000 PCI_ID=8086:3E92 PCI_SLOT_NAME=0000:00:02.0",
            $"ACTION=change DEVPATH={Gpu} SUBSYSTEM=pci MDEV_STATE=registered DRIVER=i915 PCI_CLASS=30000 PCI_ID=8086:3E92 PCI_SLOT_NAME=0000:00:02.0",
            $"ACTION=bind DEVPATH={Gpu} SUBSYSTEM=pci DRIVER=i915 PCI_CLASS=30000 PCI_ID=8086:3E92 PCI_SLOT_NAME=0000:00:02.0",
        ], all);
        Assert.Equal(all.Where(line => line.Contains("SUBSYSTEM=pci", StringComparison.Ordinal)), Events(simulator, "pci"));
        Assert.Equal(all.Where(line => line.Contains("SUBSYSTEM=mdev", StringComparison.Ordinal)), Events(simulator, "mdev"));
        Assert.Empty(Events(simulator, "none"));
        // Every event is numbered and tagged as the simulator's.
        var blocks = Blocks(simulator, "all");
        Assert.All(blocks, block => Assert.Matches("^SEQNUM=[1-9][0-9]*$", block.Single(line => line.StartsWith("SEQNUM=", StringComparison.Ordinal))));
        Assert.All(blocks, block => Assert.Contains("TAGS=:mdevkit:", block));
    }

    // Each event's variables on one line, without the ones every event has alike (checked on their own above).
    private static string[] Events(RunningSimulator simulator, string name) =>
    [
        .. Blocks(simulator, name).Select(block => string.Join(' ', block.Where(line => !line.StartsWith("SEQNUM=", StringComparison.Ordinal) && !line.Contains("TAGS=", StringComparison.Ordinal)))),
    ];

    // udevadm prints an event as a heading line, its KEY=VALUE lines and a blank line.
    private static IEnumerable<string[]> Blocks(RunningSimulator simulator, string name) =>
        File.ReadAllText(simulator.Join($"{name}.out"))
            .Split("\n\n")
            .Select(block => block.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Where(lines => lines.Length > 0 && lines[0].StartsWith("UDEV  [", StringComparison.Ordinal))
            .Select(lines => lines[1..]);
}
