using System.Globalization;
using System.Text;
using Mdevkit.Simulation.Profiles;
using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;
using VgpuType = Mdevkit.Simulation.Drivers.NvidiaDriver.VgpuType;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// NVIDIA vGPU on SR-IOV GPUs. The physical function is bound to <c>nvidia</c> and is no mdev parent; writing
/// to its <c>sriov_numvfs</c> (what <c>sriov-manage -e</c> does) makes the virtual functions, each of which holds
/// at most one vGPU. On Ampere each virtual function is an mdev parent offering the whole type list with 1 or 0
/// (<see cref="MdevOnVf"/>); from vGPU 17 on Ada, Hopper and Blackwell there is no mdev: a type id written to the
/// function's <c>nvidia/current_vgpu_type</c> makes the vGPU, and the function goes to a VM through VFIO as a
/// plain PCI device (<see cref="VendorVfio"/>). Either way the physical function's framebuffer is what its
/// virtual functions share (<see cref="Pool"/>).
/// </summary>
internal static class NvidiaSriov
{
    /// <summary>The SR-IOV models, by the name a profile gives.</summary>
    public static IReadOnlyCollection<string> Models => s_gpus.Keys;

    private const int GiB = 1024;

    // NVIDIA's virtual functions start at function 4 of the GPU's slot (0000:41:00.4 for 0000:41:00.0), as public
    // listings show them.
    private const int FirstVfOffset = 4;

    private static readonly Dictionary<string, Gpu> s_gpus = new(StringComparer.Ordinal)
    {
        // GA102GL [A40], a 3D controller; 48 GB; "Total VFs: 32" as sriov-manage reports it. Type ids and
        // display facts from published nvidia-NNN listings of A40 hosts.
        ["A40"] = new(Era.MdevOnVf, new PciId(0x10de, 0x2235, 0x030200), 48 * GiB, 32,
        [
            .. Sizes("A40", 555, "B", 4, "5120x2880", 1, 2),
            .. Sizes("A40", 557, "Q", 4, "5120x2880", 1),
            .. Sizes("A40", 558, "Q", 4, "7680x4320", 2, 3, 4, 6, 8, 12, 16, 24, 48),
            .. Sizes("A40", 567, "A", 1, "1280x1024", 1, 2, 3, 4, 6, 8, 12, 16, 24, 48),
            .. Sizes("A40", 581, "C", 1, "4096x2160", 4, 6, 8, 12, 16, 24, 48),
        ]),
        // AD102GL [L40S], a 3D controller; 48 GB. Type ids 1145-1166 as published creatable lists and NVML
        // listings of L40S hosts show them. Chosen: 32 virtual functions, like the A40 of the same size.
        ["L40S"] = new(Era.VendorVfio, new PciId(0x10de, 0x26b9, 0x030200), 48 * GiB, 32,
        [
            .. Sizes("L40S", 1145, "B", 1, 2),
            .. Sizes("L40S", 1147, "Q", 1, 2, 3, 4, 6, 8, 12, 16, 24, 48),
            .. Sizes("L40S", 1157, "A", 1, 2, 3, 4, 6, 8, 12, 16, 24, 48),
        ]),
    };

    /// <summary>How a GPU hands out its vGPUs.</summary>
    private enum Era
    {
        /// <summary>Ampere: every virtual function is an mdev parent.</summary>
        MdevOnVf,

        /// <summary>vGPU 17 and later on Ada, Hopper, Blackwell: NVIDIA's vendor-specific VFIO, no mdev.</summary>
        VendorVfio,
    }

    /// <summary>The physical function of an SR-IOV model, or null when <paramref name="model"/> is not one.</summary>
    public static ParentBlueprint? TryBlueprint(ParentSpec spec, string model, string address)
    {
        if (!s_gpus.TryGetValue(model, out var gpu))
        {
            return null;
        }
        VendorDrivers.Accept(spec, "model");
        return PciParent.Blueprint(address, "nvidia", gpu.Id, () => new PhysicalFunction(gpu));
    }

    // Types of one series with consecutive ids, one per framebuffer size: "NVIDIA A40-2Q" is type 558 with 2 GB.
    // B-series profiles are limited to 45 frames a second, the others to 60. How many fit (max_instance) follows
    // from the GPU. The vendor-specific interface shows only id, name and framebuffer, so its display facts are unused.
    private static IEnumerable<VgpuType> Sizes(string model, int firstId, string series, params int[] gib) =>
        Sizes(model, firstId, series, 0, "", gib);

    private static IEnumerable<VgpuType> Sizes(string model, int firstId, string series, int heads, string resolution, params int[] gib) =>
        gib.Select((size, i) => new VgpuType((firstId + i).ToString(CultureInfo.InvariantCulture), $"NVIDIA {model}-{size}{series}",
            heads, series == "B" ? 45 : 60, size * GiB, resolution, 0));

    /// <summary>An SR-IOV GPU model: its PCI identity, framebuffer, virtual functions and vGPU types.</summary>
    private sealed record Gpu(Era Era, PciId Id, int FramebufferMB, int TotalVfs, IReadOnlyList<VgpuType> Types)
    {
        // max_instance: as many as the framebuffer holds, one per virtual function at most.
        public IReadOnlyList<VgpuType> Types { get; } = [.. Types.Select(type => type with { MaxInstances = Math.Min(FramebufferMB / type.FramebufferMB, TotalVfs) })];
    }

    /// <summary>
    /// What a physical function's virtual functions share. In equal-size mode (the default) every vGPU on the GPU
    /// has the framebuffer size of the first, up to the type's <c>max_instance</c>; in mixed-size mode (NVIDIA's
    /// heterogeneous mode) any sizes fit while framebuffer is left. Placement within the framebuffer is not
    /// modelled. Used under the core lock only.
    /// </summary>
    private sealed class Pool(Gpu gpu)
    {
        private readonly List<VgpuType> _used = [];

        public bool MixedSizes { get; set; }

        public bool IsEmpty => _used.Count == 0;

        public bool Fits(VgpuType type) => MixedSizes
            ? _used.Sum(used => used.FramebufferMB) + type.FramebufferMB <= gpu.FramebufferMB && _used.Count < gpu.TotalVfs
            : (_used.Count == 0 || _used[0].FramebufferMB == type.FramebufferMB) && _used.Count < type.MaxInstances;

        public void Take(VgpuType type) => _used.Add(type);

        public void Return(VgpuType type) => _used.Remove(type);
    }

    /// <summary>A driver that only binds its device: no mdev types, so the core never asks it about mdevs.</summary>
    private abstract class BoundOnly : IMdevDriver
    {
        public string Name => "nvidia";

        public string DeviceApi => "vfio-pci";

        public uint MaxInstances => 0;

        public IReadOnlyList<MdevTypeSpec> Types => [];

        public Errno Probe(MdevDevice device) => throw new InvalidOperationException("a device without mdev types has no mdevs");

        public void Remove(MdevDevice device) => throw new InvalidOperationException("a device without mdev types has no mdevs");

        public IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device) => [];
    }

    /// <summary>
    /// The physical function: SR-IOV, and the mixed-size switch. <c>sim/vgpu_heterogeneous_mode</c> is the
    /// simulator's stand-in for <c>nvidia-smi vgpu -shm</c> (the physical function has no <c>nvidia/</c> files).
    /// </summary>
    private sealed class PhysicalFunction(Gpu gpu) : BoundOnly, ISriovHook, IFunctionAttributesHook
    {
        private readonly Pool _pool = new(gpu);

        public int TotalVfs => gpu.TotalVfs;

        int ISriovHook.FirstVfOffset => FirstVfOffset;

        public ParentBlueprint VirtualFunction(ParentDevice physicalFunction, int index, PciAddress address) =>
            PciParent.Blueprint(address.ToString(), "nvidia", gpu.Id, gpu.Era == Era.MdevOnVf ? () => new MdevOnVf(gpu, _pool) : () => new VendorVfio(gpu, _pool));

        /// <summary>
        /// Chosen: the driver refuses to disable virtual functions that carry vGPUs (EBUSY), rather than let the PCI
        /// core tear them down under their VMs; what NVIDIA's driver does is not published. Enabling clears the
        /// mixed-size mode, as the driver's rebind does.
        /// </summary>
        public Errno Configure(ParentDevice physicalFunction, int numVfs)
        {
            if (numVfs == 0)
            {
                return _pool.IsEmpty ? Errno.None : Errno.EBUSY;
            }
            _pool.MixedSizes = false;
            return Errno.None;
        }

        // nvidia-smi refuses while a vGPU exists ("In use by another client"), here EBUSY.
        public IEnumerable<VendorAttribute> FunctionAttributes(ParentDevice device) =>
        [
            new VendorAttribute("sim/vgpu_heterogeneous_mode", SysfsAttribute.ReadWrite, () => _pool.MixedSizes ? "1\n" : "0\n", (data, _) =>
            {
                if (KernelNumber.ParseUnsigned(data, out var value) != Errno.None || value > 1)
                {
                    return Errno.EINVAL;
                }
                if (!_pool.IsEmpty)
                {
                    return Errno.EBUSY;
                }
                _pool.MixedSizes = value == 1;
                return Errno.None;
            }),
        ];
    }

    /// <summary>
    /// An Ampere virtual function, an mdev parent for one vGPU: each type offers 1 while the function is free and the
    /// physical function has room for it, else 0. A refused create is EINVAL, as on the time-sliced GPUs.
    /// </summary>
    private sealed class MdevOnVf(Gpu gpu, Pool pool) : MdevDriver<VgpuType>, IAvailabilityHook, IDescriptionHook
    {
        private VgpuType? _held;

        public override string Name => "nvidia-vgpu-vfio";

        public override string DeviceApi => "vfio-pci";

        protected override IReadOnlyList<VgpuType> DriverTypes => gpu.Types;

        public uint GetAvailable(MdevTypeSpec type) => _held is null && pool.Fits(Own(type)) ? 1u : 0u;

        public string ShowDescription(MdevTypeSpec type) => Own(type).Description;

        protected override Errno Probe(MdevDevice device, VgpuType type)
        {
            if (GetAvailable(type) == 0)
            {
                return Errno.EINVAL;
            }
            _held = type;
            pool.Take(type);
            return Errno.None;
        }

        protected override void Remove(MdevDevice device, VgpuType type)
        {
            _held = null;
            pool.Return(type);
        }

        protected override IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, VgpuType type) => [NvidiaDriver.VgpuParams()];
    }

    /// <summary>
    /// A virtual function of NVIDIA's vendor-specific VFIO: <c>nvidia/creatable_vgpu_types</c> lists what this
    /// function could take now, <c>nvidia/current_vgpu_type</c> holds the vGPU's type id (0: none). The errnos
    /// of refused writes are not published; these are chosen: EINVAL for text that is no number or an id the GPU
    /// does not support, ENOSPC for an id it cannot take now, EBUSY for a function that has a vGPU or is held.
    /// </summary>
    private sealed class VendorVfio(Gpu gpu, Pool pool) : BoundOnly, IFunctionAttributesHook, IVfioFunctionHook
    {
        private VgpuType? _current;

        public IEnumerable<VendorAttribute> FunctionAttributes(ParentDevice device) =>
        [
            VendorAttribute.ReadOnly("nvidia/creatable_vgpu_types", ShowCreatable),
            new VendorAttribute("nvidia/current_vgpu_type", SysfsAttribute.ReadWrite, () => (_current?.SysfsName ?? "0") + "\n", (data, _) => SetType(device, data)),
        ];

        /// <summary>Chosen: a function without a vGPU has nothing to run, so its VFIO device cannot be opened (ENODEV).</summary>
        public Errno CanOpen(ParentDevice device) => _current is null ? Errno.ENODEV : Errno.None;

        // The header's spelling is the one public fixtures show; a busy function lists nothing under it.
        private string ShowCreatable()
        {
            var text = new StringBuilder("ID    : vGPU Name\n");
            foreach (var type in gpu.Types.Where(type => _current is null && pool.Fits(type)))
            {
                text.Append(CultureInfo.InvariantCulture, $"{type.SysfsName,-6}: {type.PrettyName}\n");
            }
            return text.ToString();
        }

        private Errno SetType(ParentDevice device, ReadOnlySpan<byte> data)
        {
            if (KernelNumber.ParseUnsigned(data, out var value) != Errno.None)
            {
                return Errno.EINVAL;
            }
            if (device.IsHeld)
            {
                return Errno.EBUSY;
            }
            if (value == 0)
            {
                if (_current is { } current)
                {
                    pool.Return(current);
                    _current = null;
                }
                return Errno.None;
            }
            var id = value.ToString(CultureInfo.InvariantCulture);
            if (gpu.Types.FirstOrDefault(type => type.SysfsName == id) is not { } wanted)
            {
                return Errno.EINVAL;
            }
            if (_current is not null)
            {
                return Errno.EBUSY;
            }
            if (!pool.Fits(wanted))
            {
                return Errno.ENOSPC;
            }
            pool.Take(wanted);
            _current = wanted;
            return Errno.None;
        }
    }
}
