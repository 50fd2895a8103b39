using System.Globalization;

namespace Mdevkit.Sysfs;

/// <summary>A vGPU type as a virtual function's <c>nvidia/creatable_vgpu_types</c> lists it.</summary>
/// <param name="Id">The numeric id written to <c>nvidia/current_vgpu_type</c>, e.g. <c>1155</c>.</param>
/// <param name="Name">The type's name, e.g. <c>NVIDIA L40S-24Q</c>.</param>
public sealed record VgpuTypeInfo(int Id, string Name);

/// <summary>A PCI function's identity, as its <c>vendor</c>, <c>device</c> and <c>class</c> attributes give it.</summary>
/// <param name="Vendor">The vendor id, e.g. <c>0x10de</c> for NVIDIA.</param>
/// <param name="Device">The device id, e.g. <c>0x2235</c> for an A40.</param>
/// <param name="Class">The class code, e.g. <c>0x030200</c> for a 3D controller.</param>
public sealed record PciIdentity(int Vendor, int Device, int Class);

/// <summary>What an SR-IOV physical function says of its virtual functions.</summary>
/// <param name="Function">The physical function's address.</param>
/// <param name="TotalVfs">Its <c>sriov_totalvfs</c>.</param>
/// <param name="NumVfs">Its <c>sriov_numvfs</c>: how many are enabled now.</param>
/// <param name="Offset">Its <c>sriov_offset</c>.</param>
/// <param name="Stride">Its <c>sriov_stride</c>.</param>
public sealed record SriovLayout(PciAddress Function, int TotalVfs, int NumVfs, int Offset, int Stride)
{
    /// <summary>
    /// The address virtual function <paramref name="index"/> has once enabled: the physical function's routing id
    /// (bus, device, function) plus offset and stride, as the PCI core numbers them (<c>pci_iov_virtfn_bus/devfn</c>).
    /// </summary>
    public PciAddress VirtualFunction(int index)
    {
        var id = (Function.Bus << 8) + (Function.Slot << 3) + Function.Function + Offset + (index * Stride);
        return new PciAddress(Function.Domain, (id >> 8) & 0xff, (id >> 3) & 0x1f, id & 7);
    }
}

/// <summary>
/// PCI SR-IOV (<c>sriov_totalvfs</c>, <c>sriov_numvfs</c>, <c>physfn</c>, <c>virtfnN</c>) and NVIDIA's
/// vendor-specific VFIO on virtual functions (<c>nvidia/creatable_vgpu_types</c>, <c>nvidia/current_vgpu_type</c>),
/// on the functions of <c>sys/bus/pci/devices</c>, each named by its address.
/// </summary>
public sealed partial class SysfsRoot
{
    /// <summary>The PCI functions (entries of <c>sys/bus/pci/devices</c>), in byte order.</summary>
    /// <returns>Function addresses; none when there is no PCI bus.</returns>
    public IReadOnlyList<string> GetPciFunctionNames() => [.. ListNames(PathOf(SysfsPaths.PciDevices)).Order(StringComparer.Ordinal)];

    /// <summary>How many virtual functions a physical function can have.</summary>
    /// <param name="function">A PCI function's address.</param>
    /// <returns>Its <c>sriov_totalvfs</c>, or null when it has none (not an SR-IOV physical function).</returns>
    /// <exception cref="SysfsException">The attribute cannot be read, or is no number (EINVAL).</exception>
    public int? GetTotalVfs(string function) =>
        ReadOptional(FunctionFile(function, SysfsNames.SriovTotalVfs)) is { } text ? Count(text, FunctionFile(function, SysfsNames.SriovTotalVfs)) : null;

    /// <summary>The SR-IOV numbers of a physical function.</summary>
    /// <param name="function">A PCI function's address.</param>
    /// <returns>Its layout, or null when it is no SR-IOV physical function (or not a PCI address).</returns>
    /// <exception cref="SysfsException">An attribute cannot be read or is no number (EINVAL).</exception>
    public SriovLayout? GetSriovLayout(string function)
    {
        if (!PciAddress.TryParse(function, out var address) || GetTotalVfs(function) is not { } total)
        {
            return null;
        }
        return new SriovLayout(address, total, GetNumVfs(function), ReadCount(function, SysfsNames.SriovOffset), ReadCount(function, SysfsNames.SriovStride));
    }

    /// <summary>How many virtual functions are enabled.</summary>
    /// <param name="function">An SR-IOV physical function's address.</param>
    /// <returns>Its <c>sriov_numvfs</c>.</returns>
    /// <exception cref="SysfsException">ENOENT when the function has no SR-IOV, EINVAL when the text is no number.</exception>
    public int GetNumVfs(string function) => ReadCount(function, SysfsNames.SriovNumVfs);

    /// <summary>Enables or disables virtual functions: writes the count to <c>sriov_numvfs</c>.</summary>
    /// <param name="function">An SR-IOV physical function's address.</param>
    /// <param name="count">The count; 0 disables.</param>
    /// <exception cref="SysfsException">
    /// The kernel's refusal: EBUSY for another non-zero count while virtual functions exist (or a driver that will
    /// not let them go), ERANGE past <c>sriov_totalvfs</c>, ENOENT without SR-IOV.
    /// </exception>
    public void SetNumVfs(string function, int count) =>
        WriteFile(FunctionFile(function, SysfsNames.SriovNumVfs), count.ToString(CultureInfo.InvariantCulture));

    /// <summary>The virtual functions of a physical function, by their <c>virtfnN</c> links in index order.</summary>
    /// <param name="function">A PCI function's address.</param>
    /// <returns>The virtual functions' addresses; none when it has none (or is no function).</returns>
    public IReadOnlyList<string> GetVirtualFunctions(string function)
    {
        var directory = PathOf(SysfsPaths.PciDevices + "/" + RequireComponent(function));
        var functions = new List<(int Index, string Name)>();
        foreach (var name in ListNames(directory))
        {
            // A link removed while the functions are disabled is skipped, as a vanished entry always is.
            if (name.StartsWith(SysfsNames.VirtFnPrefix, StringComparison.Ordinal)
                && int.TryParse(name.AsSpan(SysfsNames.VirtFnPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && ReadLink(System.IO.Path.Join(directory, name)) is { } target)
            {
                functions.Add((index, System.IO.Path.GetFileName(target.TrimEnd('/'))));
            }
        }
        return [.. functions.OrderBy(vf => vf.Index).Select(vf => vf.Name)];
    }

    /// <summary>The physical function of a virtual function, by its <c>physfn</c> link.</summary>
    /// <param name="function">A PCI function's address.</param>
    /// <returns>The physical function's address, or null when the function is no virtual function (or does not exist).</returns>
    public string? GetPhysicalFunction(string function) =>
        ReadLink(FunctionFile(function, SysfsNames.PhysFn)) is { } target ? System.IO.Path.GetFileName(target.TrimEnd('/')) : null;

    /// <summary>Whether a function offers NVIDIA's vendor-specific VFIO: it has <c>nvidia/current_vgpu_type</c>.</summary>
    /// <param name="function">A PCI function's address; names that are not a single path component never do.</param>
    /// <returns>Whether the attribute exists.</returns>
    public bool HasVendorVgpu(string function) =>
        IsPathComponent(function) && File.Exists(FunctionFile(function, SysfsNames.NvidiaCurrentVgpuType));

    /// <summary>The vGPU types a virtual function could take now, as its <c>nvidia/creatable_vgpu_types</c> lists them.</summary>
    /// <param name="function">A virtual function's address.</param>
    /// <returns>The types in the file's order; none when the function has a vGPU or nothing fits.</returns>
    /// <exception cref="SysfsException">ENOENT without the attribute; EINVAL, naming the line, when the listing cannot be parsed.</exception>
    public IReadOnlyList<VgpuTypeInfo> GetCreatableVgpuTypes(string function)
    {
        var path = FunctionFile(function, SysfsNames.NvidiaCreatableVgpuTypes);
        return ParseCreatableVgpuTypes(WholeFile.Read(path), path);
    }

    /// <summary>The id of a virtual function's vGPU type.</summary>
    /// <param name="function">A virtual function's address.</param>
    /// <returns>The id in <c>nvidia/current_vgpu_type</c>; 0 when the function has no vGPU.</returns>
    /// <exception cref="SysfsException">ENOENT without the attribute; EINVAL when the text is no number.</exception>
    public int GetCurrentVgpuType(string function) => ReadCount(function, SysfsNames.NvidiaCurrentVgpuType);

    /// <summary>Creates a vGPU on a virtual function (a type id) or destroys its vGPU (0): writes <c>nvidia/current_vgpu_type</c>.</summary>
    /// <param name="function">A virtual function's address.</param>
    /// <param name="typeId">A type id, or 0.</param>
    /// <exception cref="SysfsException">The driver's refusal (EINVAL, ENOSPC, EBUSY…), or ENOENT without the attribute.</exception>
    public void SetCurrentVgpuType(string function, int typeId) =>
        WriteFile(FunctionFile(function, SysfsNames.NvidiaCurrentVgpuType), typeId.ToString(CultureInfo.InvariantCulture));

    /// <summary>A PCI function's vendor, device and class ids.</summary>
    /// <param name="function">A PCI function's address.</param>
    /// <returns>Its identity, or null when it lacks one of the attributes (or does not exist).</returns>
    /// <exception cref="SysfsException">An attribute is not a 0x-prefixed hex number (EINVAL).</exception>
    public PciIdentity? GetPciIdentity(string function)
    {
        int? Read(string attribute) =>
            ReadOptional(FunctionFile(function, attribute)) is { } text ? Hex(text.Trim(), FunctionFile(function, attribute)) : null;
        return Read(SysfsNames.PciVendor) is { } vendor && Read(SysfsNames.PciDevice) is { } device && Read(SysfsNames.PciClass) is { } klass
            ? new PciIdentity(vendor, device, klass)
            : null;
    }

    /// <summary>Locates a PCI function: the device directory its <c>sys/bus/pci/devices</c> entry leads to.</summary>
    /// <param name="function">A PCI function's address.</param>
    /// <returns>The location, or null when there is no such function.</returns>
    public DeviceLocation? TryLocatePciFunction(string function) =>
        IsPathComponent(function) ? Locate(PathOf(SysfsPaths.PciDevices + "/" + function)) : null;

    /// <summary>
    /// Parses a <c>creatable_vgpu_types</c> listing: a header line starting <c>ID</c>, then one <c>&lt;id&gt; : &lt;name&gt;</c>
    /// line per type, the id in decimal; blank lines are ignored.
    /// </summary>
    /// <param name="text">The file's text.</param>
    /// <param name="path">The file, named (with the line) in errors.</param>
    /// <returns>The types in the listing's order.</returns>
    /// <exception cref="SysfsException">EINVAL naming <c>path:line</c> when a line is neither.</exception>
    public static IReadOnlyList<VgpuTypeInfo> ParseCreatableVgpuTypes(string text, string path)
    {
        var types = new List<VgpuTypeInfo>();
        var lines = text.Split('\n');
        var sawHeader = false;
        for (var number = 1; number <= lines.Length; number++)
        {
            var line = lines[number - 1].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            if (!sawHeader)
            {
                sawHeader = line.StartsWith("ID", StringComparison.Ordinal) ? true : throw BadLine(path, number);
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0
                || !int.TryParse(line.AsSpan(0, colon).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                || id == 0
                || line[(colon + 1)..].Trim() is not { Length: > 0 } name)
            {
                throw BadLine(path, number);
            }
            types.Add(new VgpuTypeInfo(id, name));
        }
        return types;
    }

    private static SysfsException BadLine(string path, int number) =>
        new(Errno.EINVAL, $"{path}:{number.ToString(CultureInfo.InvariantCulture)}");

    private int ReadCount(string function, string attribute)
    {
        var path = FunctionFile(function, attribute);
        return Count(WholeFile.Read(path).Trim(), path);
    }

    private static int Hex(string text, string path) =>
        text.StartsWith("0x", StringComparison.Ordinal) && int.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new SysfsException(Errno.EINVAL, path);

    private static int Count(string text, string path) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw new SysfsException(Errno.EINVAL, path);

    private string FunctionFile(string function, string attribute) =>
        PathOf($"{SysfsPaths.PciDevices}/{RequireComponent(function)}/{attribute}");
}
