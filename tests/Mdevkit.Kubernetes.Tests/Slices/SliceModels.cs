using Mdevkit.Kubernetes.Slices;
using Mdevkit.Management.Planning;
using Mdevkit.Sysfs;

namespace Mdevkit.Kubernetes.Tests.Slices;

/// <summary>Parents as the probe finds them on the simulator's profiles, for the slice tests.</summary>
internal static class SliceModels
{
    // NVIDIA M60-like, time-sliced: one type at a time.
    public static CapacityModel M60(string parent) => new(parent, CapacityKind.Exclusive,
        [new("nvidia-11", 16), new("nvidia-13", 8), new("nvidia-16", 4), new("nvidia-19", 2), new("nvidia-21", 1)]);

    // GVT-g-like: costs of 3, 4, 8 and 16 from 21 units.
    public static CapacityModel Gvt(string parent) => new(parent, CapacityKind.SharedPool,
        [new("i915-GVTg_V5_8", 7, 3), new("i915-GVTg_V5_4", 5, 4), new("i915-GVTg_V5_2", 2, 8), new("i915-GVTg_V5_1", 1, 16)], Pool: 21);

    // L40S-like SR-IOV GPU in equal-size mode: 48 GiB, 32 virtual functions.
    public static CapacityModel L40S(string parent) => new(parent, CapacityKind.OneSize,
        [.. new[] { 1, 2, 4, 8, 12, 24, 48 }.Select(gib => new TypeCapacity($"nvidia-{1154 + gib}", Math.Min(32, 48 / gib), Size: gib * 1024, Name: $"NVIDIA L40S-{gib}Q"))],
        Slots: 32);

    public static SliceParent Parent(CapacityModel model, params ActiveDevice[] devices) =>
        new(model, [.. model.Types.Select(type => new MdevTypeInfo(type.Type, type.Max, "vfio-pci", type.Name, null))], devices);
}
