namespace Mdevkit.Cli.Tests;

/// <summary>
/// Debian's libvirtd and virsh, with mdevkit installed as their <c>mdevctl</c>, inside <c>mdevkit sim exec</c>.
/// libvirt learns of defined mdevs from <c>mdevctl list --dumpjson --defined</c> and starts and undefines
/// them through mdevctl, which works end to end. It learns of parents and active mdevs only from libudev,
/// which refuses any device not on a filesystem whose statfs type is sysfs's; a FUSE mount always reports
/// FUSE's, so on the simulator libvirt sees no parents (node-device define fails: "invalid parent
/// device") and no active mdevs (destroy fails: "not active"). Those two calls are checked to fail for
/// exactly that reason, so that a change in either side shows here.
/// </summary>
public sealed class LibvirtdTests
{
    private const string Uuid = "783e6dbb-ea0e-411f-94e2-717eaad438bf";
    private const string Name = "mdev_783e6dbb_ea0e_411f_94e2_717eaad438bf_0000_00_02_0";

    [Fact]
    public void Virsh_ListsStartsAndUndefinesAnMdevThroughMdevkit()
    {
        using var simulator = new RunningSimulator("default", nameof(LibvirtdTests));
        Directory.CreateDirectory(simulator.Join("bin"));
        File.CreateSymbolicLink(simulator.Join("bin/mdevctl"), RunningSimulator.Mdevkit);
        File.WriteAllText(simulator.Join("device.xml"), """
            <device>
              <parent>pci_0000_00_02_0</parent>
              <capability type='mdev'>
                <type id='i915-GVTg_V5_8'/>
              </capability>
            </device>
            """);

        // Everything libvirtd writes stays in the namespace: tmpfs over /run and /var, a copy of /etc/libvirt,
        // and the qemu driver's user in a copy of /etc/passwd (the driver will not start without it).
        var run = simulator.ExecBash($"""
            set -u
            work={simulator.Root}
            mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var && ln -s /run /var/run && mkdir -p /var/log/libvirt
            cp -a /etc/libvirt "$work/etc-libvirt" && mount --bind "$work/etc-libvirt" /etc/libvirt
            cp /etc/passwd "$work/passwd" && echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >> "$work/passwd"
            cp /etc/group "$work/group" && printf 'libvirt-qemu:x:64055:\nkvm:x:64056:\n' >> "$work/group"
            mount --bind "$work/passwd" /etc/passwd && mount --bind "$work/group" /etc/group
            export PATH="$work/bin:$PATH"
            mdevctl define -u {Uuid} -p 0000:00:02.0 -t i915-GVTg_V5_4
            libvirtd --daemon --pid-file="$work/libvirtd.pid" 2>"$work/libvirtd.err"
            for i in $(seq 100); do [ -S /var/run/libvirt/libvirt-sock ] && break; sleep 0.1; done
            virsh() ( command virsh -c qemu:///system "$@" 2>&1; echo "rc=$?" )
            # libvirtd reads the definitions in the background after it starts listening.
            for i in $(seq 100); do case "$(virsh nodedev-list --cap mdev --all)" in *{Name}*) break ;; esac; sleep 0.1; done
            echo "# list"; virsh nodedev-list --cap mdev --all
            echo "# start"; virsh nodedev-start {Name}
            echo "# kernel"; ls /sys/bus/mdev/devices
            echo "# define"; virsh nodedev-define "$work/device.xml"
            echo "# destroy"; virsh nodedev-destroy {Name}
            echo "# undefine"; virsh nodedev-undefine {Name}
            echo "# left"; mdevctl list -d
            kill "$(cat "$work/libvirtd.pid")"
            """);

        Assert.True(run.Error == "", $"{run.Error}\n{run.Output}\nlibvirtd: {(File.Exists(simulator.Join("libvirtd.err")) ? File.ReadAllText(simulator.Join("libvirtd.err")) : "")}");
        Assert.Equal($"""
            # list
            {Name}

            rc=0
            # start
            Device {Name} started

            rc=0
            # kernel
            {Uuid}
            # define
            error: Failed to define node device from '{simulator.Join("device.xml")}'
            error: unsupported configuration: invalid parent device 'pci_0000_00_02_0'

            rc=1
            # destroy
            error: Failed to destroy node device '{Name}'
            error: Requested operation is not valid: Device '{Name}' is not active

            rc=1
            # undefine
            Undefined node device '{Name}'

            rc=0
            # left

            """, run.Output);
    }
}
