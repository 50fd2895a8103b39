namespace Mdevkit.Cli.Tests;

/// <summary>
/// Debian's libvirtd and virsh (libvirt 9.0), with mdevkit installed as their <c>mdevctl</c>, inside <c>mdevkit sim exec</c>:
/// every node-device operation on mdevs, live. libvirt learns of parents and running mdevs through libudev, which
/// <c>sim exec</c> lets accept devices on the mount (<c>SYSTEMD_DEVICE_VERIFY_SYSFS=0</c>) and hear the simulator's
/// udev events; of definitions through <c>mdevctl list --dumpjson --defined</c>.
/// </summary>
public sealed class LibvirtdTests
{
    private const string Gvt = "mdev_11111111_0000_0000_0000_000000000001_0000_00_02_0";
    private const string Transient = "mdev_22222222_0000_0000_0000_000000000001_mtty";
    private const string Echoed = "33333333-0000-0000-0000-000000000001";

    [Fact]
    public void Virsh_ManagesMdevsOnEveryKindOfParent_AndFollowsTheSimulatedKernelLive()
    {
        using var simulator = new RunningSimulator("default", nameof(LibvirtdTests));
        string[][] definitions =
        [
            ["pci_0000_00_02_0", "i915-GVTg_V5_4", "11111111-0000-0000-0000-000000000001"],
            ["mtty_mtty", "mtty-2", "11111111-0000-0000-0000-000000000002"],
            ["css_0_0_0123", "vfio_ccw-io", "11111111-0000-0000-0000-000000000003"],
            ["ap_matrix", "vfio_ap-passthrough", "11111111-0000-0000-0000-000000000004"],
            ["mtty_mtty", "mtty-1", "22222222-0000-0000-0000-000000000001"],
        ];
        foreach (var (definition, index) in definitions.Select((definition, index) => (definition, index)))
        {
            File.WriteAllText(simulator.Join($"device{index}.xml"),
                $"<device><parent>{definition[0]}</parent><capability type='mdev'><type id='{definition[1]}'/><uuid>{definition[2]}</uuid></capability></device>\n");
        }

        var run = simulator.ExecBash($$"""
            {{StartLibvirtd(simulator)}}
            await ap_matrix listed --cap mdev_types
            echo "# types"; virsh nodedev-list --cap mdev_types
            echo "# dumpxml"; virsh nodedev-dumpxml pci_0000_00_02_0
            for i in 0 1 2 3; do echo "# define"; virsh nodedev-define "$work/device$i.xml"; done
            await 11111111_0000_0000_0000_000000000004 listed --cap mdev --inactive
            echo "# defined"; virsh nodedev-list --cap mdev --inactive
            echo "# start"; virsh nodedev-start {{Gvt}}
            echo "# info"; virsh nodedev-info {{Gvt}}
            echo "# autostart"; virsh nodedev-autostart {{Gvt}}; mdevctl list -d -u 11111111-0000-0000-0000-000000000001
            echo "# destroy"; virsh nodedev-destroy {{Gvt}}
            echo "# undefine"; virsh nodedev-undefine {{Gvt}}
            echo "# create"; virsh nodedev-create "$work/device4.xml"
            echo "# running"; virsh nodedev-list --cap mdev
            echo "# destroy transient"; virsh nodedev-destroy {{Transient}}
            echo {{Echoed}} > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create
            await 33333333 listed --cap mdev
            echo "# echoed create"; virsh nodedev-list --cap mdev
            echo 1 > /sys/bus/mdev/devices/{{Echoed}}/remove
            await 33333333 gone --cap mdev
            echo "# echoed remove"; virsh nodedev-list --cap mdev
            {{RunningSimulator.Mdevkit}} sim hotplug remove 0000:00:02.0 --root "$work"
            await pci_0000_00_02_0 gone --cap mdev_types
            echo "# unplugged"; virsh nodedev-list --cap mdev_types
            {{RunningSimulator.Mdevkit}} sim hotplug add 0000:00:02.0 --root "$work"
            await pci_0000_00_02_0 listed --cap mdev_types
            echo "# replugged"; virsh nodedev-info pci_0000_00_02_0
            kill "$(cat "$work/libvirtd.pid")"
            """);

        Assert.True(run.Error == "", $"{run.Error}\n{run.Output}\nlibvirtd: {(File.Exists(simulator.Join("libvirtd.err")) ? File.ReadAllText(simulator.Join("libvirtd.err")) : "")}");
        // Where this differs from a real host: libvirt names no vendor or product (it takes the names from the
        // properties udev's hardware database adds, ID_VENDOR_FROM_DATABASE, which the simulator's events lack).
        // A conventional function has no <pci-express/>: its config file is 256 bytes, as sysfs reports it.
        // The transient create returns once libvirt's udev event arrived, or after its 5 s poll.
        Assert.Equal($"""
            # types
            ap_matrix
            css_0_0_0123
            css_0_0_0124
            mtty_mtty
            pci_0000_00_02_0
            pci_0000_3e_00_0
            pci_0000_3f_00_0

            rc=0
            # dumpxml
            <device>
              <name>pci_0000_00_02_0</name>
              <path>/sys/devices/pci0000:00/0000:00:02.0</path>
              <parent>computer</parent>
              <driver>
                <name>i915</name>
              </driver>
              <capability type='pci'>
                <class>0x030000</class>
                <domain>0</domain>
                <bus>0</bus>
                <slot>2</slot>
                <function>0</function>
                <product id='0x3e92'/>
                <vendor id='0x8086'/>
                <capability type='mdev_types'>
                  <type id='i915-GVTg_V5_1'>
                    <name>GVTg_V5_1</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>1</availableInstances>
                  </type>
                  <type id='i915-GVTg_V5_2'>
                    <name>GVTg_V5_2</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>2</availableInstances>
                  </type>
                  <type id='i915-GVTg_V5_4'>
                    <name>GVTg_V5_4</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>5</availableInstances>
                  </type>
                  <type id='i915-GVTg_V5_8'>
                    <name>GVTg_V5_8</name>
                    <deviceAPI>vfio-pci</deviceAPI>
                    <availableInstances>7</availableInstances>
                  </type>
                </capability>
                <iommuGroup number='0'>
                  <address domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
                </iommuGroup>
              </capability>
            </device>

            rc=0
            # define
            Node device '{Gvt}' defined from '{simulator.Join("device0.xml")}'

            rc=0
            # define
            Node device 'mdev_11111111_0000_0000_0000_000000000002_mtty' defined from '{simulator.Join("device1.xml")}'

            rc=0
            # define
            Node device 'mdev_11111111_0000_0000_0000_000000000003_0_0_0123' defined from '{simulator.Join("device2.xml")}'

            rc=0
            # define
            Node device 'mdev_11111111_0000_0000_0000_000000000004_matrix' defined from '{simulator.Join("device3.xml")}'

            rc=0
            # defined
            {Gvt}
            mdev_11111111_0000_0000_0000_000000000002_mtty
            mdev_11111111_0000_0000_0000_000000000003_0_0_0123
            mdev_11111111_0000_0000_0000_000000000004_matrix

            rc=0
            # start
            Device {Gvt} started

            rc=0
            # info
            Name:           {Gvt}
            Parent:         pci_0000_00_02_0
            Active:         yes
            Persistent:     yes
            Autostart:      no

            rc=0
            # autostart
            Device {Gvt} marked as autostarted

            rc=0
            11111111-0000-0000-0000-000000000001 0000:00:02.0 i915-GVTg_V5_4 auto (active)
            # destroy
            Destroyed node device '{Gvt}'

            rc=0
            # undefine
            Undefined node device '{Gvt}'

            rc=0
            # create
            Node device {Transient} created from {simulator.Join("device4.xml")}

            rc=0
            # running
            {Transient}

            rc=0
            # destroy transient
            Destroyed node device '{Transient}'

            rc=0
            # echoed create
            mdev_33333333_0000_0000_0000_000000000001_mtty

            rc=0
            # echoed remove

            rc=0
            # unplugged
            ap_matrix
            css_0_0_0123
            css_0_0_0124
            mtty_mtty
            pci_0000_3e_00_0
            pci_0000_3f_00_0

            rc=0
            # replugged
            Name:           pci_0000_00_02_0
            Parent:         computer
            Active:         yes
            Persistent:     no
            Autostart:      no

            rc=0

            """, run.Output);
    }
    [Fact]
    public void NodedevDumpxml_ShowsSriovFunctionsOfBothLaterEras_AsLibvirtDoes()
    {
        using var simulator = new RunningSimulator("nvidia-mixed", nameof(LibvirtdTests));

        // libvirt's own XML beside mdevkit's for the A40's and the L40S's functions: physical functions with their
        // virt_functions (none enabled, then two), an Ampere virtual function (an mdev parent) and an Ada one (not).
        var run = simulator.ExecBash($$"""
            {{StartLibvirtd(simulator)}}
            # virsh ends the document with an empty line.
            same() { for device in "$@"; do
                diff <(command virsh -c qemu:///system nodedev-dumpxml "$device" 2>&1 | sed '${/^$/d}') <({{RunningSimulator.Mdevkit}} nodedev dumpxml "$device" 2>&1) && echo "$device same"
            done; }
            await pci_0000_81_00_0 listed --cap pci
            same pci_0000_81_00_0
            echo 2 > /sys/bus/pci/devices/0000:41:00.0/sriov_numvfs
            echo 2 > /sys/bus/pci/devices/0000:81:00.0/sriov_numvfs
            await pci_0000_81_00_5 listed --cap pci
            same pci_0000_41_00_0 pci_0000_41_00_4 pci_0000_81_00_0 pci_0000_81_00_5
            kill "$(cat "$work/libvirtd.pid")"
            """);

        Assert.Equal("pci_0000_81_00_0 same\npci_0000_41_00_0 same\npci_0000_41_00_4 same\npci_0000_81_00_0 same\npci_0000_81_00_5 same\n", run.Output);
    }

    // Starts libvirtd inside sim exec, with mdevkit as its mdevctl. Everything libvirtd writes stays in the namespace:
    // tmpfs over /run and /var (so sim exec's empty /run/udev/control, which libudev listens only with, is made
    // again), a copy of /etc/libvirt, and the qemu driver's user in a copy of /etc/passwd (the driver will not start
    // without it). Defines virsh (which prints its exit code) and await.
    private static string StartLibvirtd(RunningSimulator simulator)
    {
        Directory.CreateDirectory(simulator.Join("bin"));
        File.CreateSymbolicLink(simulator.Join("bin/mdevctl"), RunningSimulator.Mdevkit);
        return $$"""
            set -u
            work={{simulator.Root}}
            mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var && ln -s /run /var/run && mkdir -p /var/log/libvirt /run/udev && touch /run/udev/control
            cp -a /etc/libvirt "$work/etc-libvirt" && mount --bind "$work/etc-libvirt" /etc/libvirt
            cp /etc/passwd "$work/passwd" && echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >> "$work/passwd"
            cp /etc/group "$work/group" && printf 'libvirt-qemu:x:64055:\nkvm:x:64056:\n' >> "$work/group"
            mount --bind "$work/passwd" /etc/passwd && mount --bind "$work/group" /etc/group
            export PATH="$work/bin:$PATH"
            libvirtd --daemon --pid-file="$work/libvirtd.pid" 2>"$work/libvirtd.err"
            for i in $(seq 100); do [ -S /var/run/libvirt/libvirt-sock ] && break; sleep 0.1; done
            virsh() ( command virsh -c qemu:///system "$@" 2>&1; echo "rc=$?" )
            # libvirt takes in a udev event or a definition after the write that caused it returned:
            # wait until nodedev-list ARGS lists (or no longer lists) a device.
            await() { what=$1 state=$2; shift 2; for i in $(seq 100); do case "$(virsh nodedev-list "$@")" in *"$what"*) [ "$state" = listed ] && return ;; *) [ "$state" = gone ] && return ;; esac; sleep 0.1; done; }
            """;
    }
}
