using Mdevkit.Simulation.Tree;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation;

/// <summary>A type as a vendor driver declares it (the kernel's <c>struct mdev_type</c>): drivers derive to add their own facts.</summary>
/// <param name="SysfsName">The short name; the type id is <c>&lt;parent driver&gt;-&lt;SysfsName&gt;</c>.</param>
/// <param name="PrettyName">What the <c>name</c> file shows; the core falls back to <paramref name="SysfsName"/>.</param>
public record MdevTypeSpec(string SysfsName, string? PrettyName);

/// <summary>
/// What a vendor driver registers for one parent device: the kernel's <c>struct mdev_driver</c> plus its
/// type array. The core owns everything generic (layout, text, UUIDs, duplicates, counting, links,
/// uevents); a driver states facts and answers a few hooks. Optional behaviour comes from the optional
/// interfaces <see cref="IAvailabilityHook"/>, <see cref="IDescriptionHook"/> and <see cref="ITypeVisibilityHook"/>;
/// what a PCI driver does with its device besides mdev from <see cref="IFunctionAttributesHook"/>,
/// <see cref="ISriovHook"/> and <see cref="IVfioFunctionHook"/>. A driver that declares no types does not register
/// the device with the mdev core at all: the device is only bound (an SR-IOV physical function whose virtual
/// functions carry the vGPUs, or a virtual function the vendor hands to VFIO itself).
/// </summary>
public interface IMdevDriver
{
    /// <summary>The driver's name on the mdev bus (<c>sys/bus/mdev/drivers/&lt;name&gt;</c>), e.g. <c>intel_vgpu_mdev</c>.</summary>
    string Name { get; }

    /// <summary>The VFIO device API, e.g. <c>vfio-pci</c>.</summary>
    string DeviceApi { get; }

    /// <summary>The size of the core's per-parent instance counter; used only without <see cref="IAvailabilityHook"/>.</summary>
    uint MaxInstances { get; }

    /// <summary>The types this parent offers, in registration order.</summary>
    IReadOnlyList<MdevTypeSpec> Types { get; }

    /// <summary>Reserves the device's resources. A non-zero errno fails the create with it.</summary>
    Errno Probe(MdevDevice device);

    /// <summary>Returns the device's resources.</summary>
    void Remove(MdevDevice device);

    /// <summary>The vendor attributes of a new device (the driver's <c>dev_groups</c>).</summary>
    IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device);
}

/// <summary>A driver that counts its own capacity (the kernel's <c>get_available</c>); the core then does not count.</summary>
public interface IAvailabilityHook
{
    /// <summary>How many devices of <paramref name="type"/> could be created now.</summary>
    uint GetAvailable(MdevTypeSpec type);
}

/// <summary>A driver that describes its types; without it the <c>description</c> file does not exist.</summary>
public interface IDescriptionHook
{
    /// <summary>The text of the <c>description</c> file, including its trailing newline.</summary>
    string ShowDescription(MdevTypeSpec type);
}

/// <summary>A driver whose unavailable types vanish from <c>mdev_supported_types</c> (as first proposed for NVIDIA vGPU).</summary>
public interface ITypeVisibilityHook
{
    /// <summary>Whether the type's directory exists now; asked after every create and remove on the parent.</summary>
    bool IsVisible(MdevTypeSpec type);
}

/// <summary>A driver with attributes of its own in the bound device's directory (a PCI driver's <c>dev_groups</c>).</summary>
/// <remarks>The core runs their show and store callbacks under its lock, so they may read and change the driver's state.</remarks>
public interface IFunctionAttributesHook
{
    /// <summary>The attributes, at paths relative to the device directory.</summary>
    IEnumerable<VendorAttribute> FunctionAttributes(ParentDevice device);
}

/// <summary>
/// A physical function's driver with SR-IOV (the PCI driver's <c>sriov_configure</c>): the PCI core then shows
/// <c>sriov_totalvfs</c> and <c>sriov_numvfs</c>, and makes or removes the virtual functions the driver describes.
/// </summary>
public interface ISriovHook
{
    /// <summary>What <c>sriov_totalvfs</c> shows.</summary>
    int TotalVfs { get; }

    /// <summary>The routing-id distance from the physical function to its first virtual function.</summary>
    int FirstVfOffset { get; }

    /// <summary>Virtual function <paramref name="index"/> (from 0) at <paramref name="address"/>, bound to its driver.</summary>
    ParentBlueprint VirtualFunction(ParentDevice physicalFunction, int index, PciAddress address);

    /// <summary>Asked before the core enables <paramref name="numVfs"/> virtual functions, or disables them (0); an errno refuses.</summary>
    Errno Configure(ParentDevice physicalFunction, int numVfs);
}

/// <summary>
/// A driver that registers the device itself with VFIO (NVIDIA's vendor-specific VFIO on a virtual function): the
/// core adds <c>vfio-dev/vfioN</c>, the character device <c>/dev/vfio/devices/vfioN</c> and the group node of the
/// device's IOMMU group, one holder at a time.
/// </summary>
public interface IVfioFunctionHook
{
    /// <summary>Whether the device can be opened now; an errno refuses the open. Asked under the core lock.</summary>
    Errno CanOpen(ParentDevice device);
}

/// <summary>A vendor attribute of a device, at a path relative to the device directory (e.g. <c>vendor/memory</c>).</summary>
/// <param name="RelativePath">Where the attribute lives below the device directory.</param>
/// <param name="Mode">Its sysfs mode.</param>
/// <param name="Show">Its show callback, if readable.</param>
/// <param name="Store">Its store callback, if writable.</param>
public sealed record VendorAttribute(string RelativePath, UnixFileMode Mode, ShowHandler? Show = null, StoreHandler? Store = null)
{
    /// <summary>A read-only (0444) attribute.</summary>
    public static VendorAttribute ReadOnly(string relativePath, ShowHandler show) =>
        new(relativePath, SysfsAttribute.ReadOnly, show);

    /// <summary>A write-only (0200) attribute.</summary>
    public static VendorAttribute WriteOnly(string relativePath, StoreHandler store) =>
        new(relativePath, SysfsAttribute.WriteOnly, Store: store);
}

/// <summary>
/// Base for drivers whose types carry their own facts: it does the one downcast from
/// <see cref="MdevTypeSpec"/> so hooks are written against the driver's own type record.
/// </summary>
/// <typeparam name="TType">The driver's type record.</typeparam>
public abstract class MdevDriver<TType> : IMdevDriver where TType : MdevTypeSpec
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public abstract string DeviceApi { get; }

    /// <inheritdoc/>
    public virtual uint MaxInstances => 0;

    /// <summary>The driver's types.</summary>
    protected abstract IReadOnlyList<TType> DriverTypes { get; }

    /// <inheritdoc/>
    public IReadOnlyList<MdevTypeSpec> Types => DriverTypes;

    /// <inheritdoc/>
    public Errno Probe(MdevDevice device) => Probe(device, (TType)device.Type.Spec);

    /// <inheritdoc/>
    public void Remove(MdevDevice device) => Remove(device, (TType)device.Type.Spec);

    /// <inheritdoc/>
    public IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device) => DeviceAttributes(device, (TType)device.Type.Spec);

    /// <summary>Reserves what a device of <paramref name="type"/> needs.</summary>
    protected abstract Errno Probe(MdevDevice device, TType type);

    /// <summary>Returns what <see cref="Probe(MdevDevice, TType)"/> reserved.</summary>
    protected abstract void Remove(MdevDevice device, TType type);

    /// <summary>The device's vendor attributes; none by default.</summary>
    protected virtual IEnumerable<VendorAttribute> DeviceAttributes(MdevDevice device, TType type) => [];

    /// <summary>Downcast for hooks that receive the core's view of a type.</summary>
    protected static TType Own(MdevTypeSpec type) => (TType)type;
}
