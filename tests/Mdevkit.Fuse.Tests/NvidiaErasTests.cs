using Mdevkit.TestSupport;

namespace Mdevkit.Fuse.Tests;

/// <summary>
/// NVIDIA's three eras through the mount, as a shell sees them on one host of each: a Tesla M60 (mdev on the GPU),
/// an A40 (mdev on SR-IOV virtual functions) and an L40S (vendor-specific VFIO, no mdev).
/// </summary>
public sealed class NvidiaErasTests : IDisposable
{
    private const string M60 = "sys/bus/pci/devices/0000:3e:00.0";
    private const string A40 = "sys/bus/pci/devices/0000:41:00.0";
    private const string L40S = "sys/bus/pci/devices/0000:81:00.0";
    private const string Uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
    private readonly MountedHost _mounted = new("nvidia-mixed", nameof(NvidiaErasTests));

    public void Dispose() => _mounted.Dispose();

    [Fact]
    public void Boot_OnlyTheM60IsAnMdevParent_TheOthersOfferSriov()
    {
        var result = _mounted.Bash($"ls sys/class/mdev_bus && cat {A40}/sriov_totalvfs {A40}/sriov_numvfs {L40S}/sriov_totalvfs && ls {M60} | grep -c sriov");

        Assert.Equal(new CommandResult(1, "0000:3e:00.0\n32\n0\n32\n0\n", ""), result);
    }

    [Fact]
    public void PciConfig_ShowsItsOwnSize_WhereTextAttributesShowAPage()
    {
        // Binary attributes have a fixed size in sysfs; 256 is conventional PCI's config space (PCI Express's is 4096).
        var result = _mounted.Bash($"stat -c %s {M60}/config {M60}/vendor && head -c 256 {M60}/config | wc -c");

        Assert.Equal(new CommandResult(0, "256\n4096\n256\n", ""), result);
    }

    [Fact]
    public void Ampere_EchoIntoSriovNumvfs_MakesVfsThatAreOrdinaryMdevParents()
    {
        var enable = _mounted.Bash($"echo 4 > {A40}/sriov_numvfs && cat {A40}/sriov_numvfs && ls sys/class/mdev_bus && readlink {A40}/virtfn3 sys/bus/pci/devices/0000:41:00.7/physfn");
        var create = _mounted.Bash($"""
            T=sys/class/mdev_bus/0000:41:00.4/mdev_supported_types
            cat $T/nvidia-563/name $T/nvidia-563/available_instances &&
            echo {Uuid} > $T/nvidia-563/create &&
            cat $T/nvidia-563/available_instances $T/nvidia-557/available_instances &&
            cat sys/class/mdev_bus/0000:41:00.5/mdev_supported_types/{"{"}nvidia-573,nvidia-557{"}"}/available_instances &&
            readlink sys/bus/mdev/devices/{Uuid}
            """);

        Assert.Equal(new CommandResult(0, "4\n0000:3e:00.0\n0000:41:00.4\n0000:41:00.5\n0000:41:00.6\n0000:41:00.7\n../0000:41:00.7\n../0000:41:00.0\n", ""), enable);
        Assert.Equal(new CommandResult(0, $"NVIDIA A40-12Q\n1\n0\n0\n1\n0\n../../../devices/pci0000:00/0000:41:00.4/{Uuid}\n", ""), create);
    }

    [Theory]
    [InlineData("8", "Device or resource busy")]
    [InlineData("33", "Numerical result out of range")]
    [InlineData("x", "Invalid argument")]
    public void Ampere_BadSriovNumvfs_GivesTheKernelsErrno(string count, string message)
    {
        var result = _mounted.Bash($"echo 4 > {A40}/sriov_numvfs; echo {count} > {A40}/sriov_numvfs; cat {A40}/sriov_numvfs");

        Assert.Equal("4\n", result.Output);
        Assert.Contains($"write error: {message}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Ampere_DisablingVfsThatCarryAVgpu_IsBusy_UntilItIsRemoved()
    {
        var result = _mounted.Bash($"""
            echo 2 > {A40}/sriov_numvfs
            echo {Uuid} > sys/class/mdev_bus/0000:41:00.5/mdev_supported_types/nvidia-560/create
            {"{"} echo 0 > {A40}/sriov_numvfs; {"}"} 2>&1 | sed 's/.*: //'
            echo 1 > sys/bus/mdev/devices/{Uuid}/remove && echo 0 > {A40}/sriov_numvfs && ls sys/class/mdev_bus
            """);

        Assert.Equal(new CommandResult(0, "Device or resource busy\n0000:3e:00.0\n", ""), result);
    }

    [Fact]
    public void Ada_NoMdev_CurrentVgpuTypeMakesTheVgpu_AndSiblingsCreatableListsShrink()
    {
        var result = _mounted.Bash($"""
            echo 3 > {L40S}/sriov_numvfs
            VF=sys/bus/pci/devices/0000:81:00
            ls sys/class/mdev_bus; ls $VF.4 | grep -c mdev_supported_types
            head -2 $VF.4/nvidia/creatable_vgpu_types; wc -l < $VF.5/nvidia/creatable_vgpu_types
            echo 1155 > $VF.4/nvidia/current_vgpu_type && cat $VF.4/nvidia/current_vgpu_type
            cat $VF.5/nvidia/creatable_vgpu_types
            echo 1165 > $VF.5/nvidia/current_vgpu_type && cat $VF.6/nvidia/creatable_vgpu_types
            echo 0 > $VF.4/nvidia/current_vgpu_type && cat $VF.4/nvidia/current_vgpu_type && wc -l < $VF.6/nvidia/creatable_vgpu_types
            ls $VF.4/vfio-dev; ls dev/vfio/devices
            """);

        Assert.Equal("", result.Error);
        Assert.Equal(
            "0000:3e:00.0\n0\nID    : vGPU Name\n1145  : NVIDIA L40S-1B\n23\n1155\n"
            + "ID    : vGPU Name\n1155  : NVIDIA L40S-24Q\n1165  : NVIDIA L40S-24A\n"
            + "ID    : vGPU Name\n0\n3\nvfio0\nvfio0\nvfio1\nvfio2\n",
            result.Output);
    }

    [Theory]
    [InlineData("4242", "Invalid argument")] // no type of the L40S
    [InlineData("1156", "No space left on device")] // 48Q cannot sit beside a 24Q
    [InlineData("1150", "Device or resource busy")] // the VF has a vGPU already
    public void Ada_RefusedCurrentVgpuType_GivesAnErrno_AndChangesNothing(string id, string message)
    {
        var vf = id == "1150" ? "0000:81:00.4" : "0000:81:00.5";
        var result = _mounted.Bash($"""
            echo 2 > {L40S}/sriov_numvfs && echo 1155 > sys/bus/pci/devices/0000:81:00.4/nvidia/current_vgpu_type
            echo {id} > sys/bus/pci/devices/{vf}/nvidia/current_vgpu_type
            cat sys/bus/pci/devices/{vf}/nvidia/current_vgpu_type
            """);

        Assert.Equal(vf == "0000:81:00.4" ? "1155\n" : "0\n", result.Output);
        Assert.Contains($"write error: {message}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Ada_WriteWhileAVmHoldsTheVf_IsBusy_AndTheVfioNodeHasOneHolder()
    {
        var result = _mounted.Bash($"""
            VF=sys/bus/pci/devices/0000:81:00.4
            echo 1 > {L40S}/sriov_numvfs
            (exec 3<>dev/vfio/devices/vfio0) 2>&1 | sed 's/.*: //'
            echo 1150 > $VF/nvidia/current_vgpu_type
            exec 3<>dev/vfio/devices/vfio0
            (exec 4<>dev/vfio/$(basename $(readlink $VF/iommu_group))) 2>&1 | sed 's/.*: //'
            {"{"} echo 0 > $VF/nvidia/current_vgpu_type; {"}"} 2>&1 | sed 's/.*: //'
            exec 3>&-
            # FUSE delivers the last close (RELEASE) after close(2) returns, where VFIO frees the device before:
            # the destroy may see the holder for a moment, and is tried again until the release has arrived.
            for try in $(seq 200); do echo 0 2>/dev/null > $VF/nvidia/current_vgpu_type && break; sleep 0.05; done
            cat $VF/nvidia/current_vgpu_type
            """);

        Assert.Equal(new CommandResult(0, "No such device\nDevice or resource busy\nDevice or resource busy\n0\n", ""), result);
    }

    [Fact]
    public void RebootAndUnplug_VfsAreGoneUntilSomethingEnablesThem()
    {
        var before = _mounted.Bash($"echo 2 > {A40}/sriov_numvfs && echo 2 > {L40S}/sriov_numvfs && echo 1150 > sys/bus/pci/devices/0000:81:00.4/nvidia/current_vgpu_type && ls sys/class/mdev_bus | wc -l");
        _mounted.Host.Reboot();
        var afterReboot = _mounted.Bash($"cat {A40}/sriov_numvfs {L40S}/sriov_numvfs; ls sys/class/mdev_bus dev/vfio/devices sys/bus/pci/devices");
        _mounted.Bash($"echo 2 > {L40S}/sriov_numvfs");
        Assert.Equal(Sysfs.Errno.None, _mounted.Host.Unplug("0000:81:00.0"));
        Assert.Equal(Sysfs.Errno.None, _mounted.Host.Plug("0000:81:00.0"));
        var afterPlug = _mounted.Bash($"cat {L40S}/sriov_numvfs; ls dev/vfio/devices");

        Assert.Equal(new CommandResult(0, "3\n", ""), before);
        Assert.Equal(new CommandResult(0, "0\n0\ndev/vfio/devices:\n\nsys/bus/pci/devices:\n0000:3e:00.0\n0000:41:00.0\n0000:81:00.0\n\nsys/class/mdev_bus:\n0000:3e:00.0\n", ""), afterReboot);
        Assert.Equal(new CommandResult(0, "0\n", ""), afterPlug);
    }
}
