using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Mdevkit.Sysfs;

/// <summary>A type a parent offers, as its files under <c>mdev_supported_types/&lt;id&gt;/</c> say now.</summary>
/// <param name="Id">The type id (directory name), e.g. <c>nvidia-11</c>.</param>
/// <param name="AvailableInstances">How many more devices of the type can be created.</param>
/// <param name="DeviceApi">The VFIO device API, e.g. <c>vfio-pci</c>.</param>
/// <param name="Name">The <c>name</c> file without its newline, or null where the file is absent (older kernels).</param>
/// <param name="Description">The <c>description</c> file without its final newline, or null where absent.</param>
public sealed record MdevTypeInfo(string Id, int AvailableInstances, string DeviceApi, string? Name, string? Description);

/// <summary>A device that exists now (listed under <c>sys/bus/mdev/devices</c>).</summary>
/// <param name="Uuid">The device's UUID.</param>
/// <param name="Parent">The parent's name: the directory the device lives in.</param>
/// <param name="Type">The type id its <c>mdev_type</c> link points to.</param>
public sealed record ActiveDevice(Guid Uuid, string Parent, string Type);

/// <summary>Where a device sits in <c>sys/devices</c> and what its links say about it.</summary>
/// <param name="Path">The device directory, root-relative (<c>sys/devices/…</c>), with every link resolved.</param>
/// <param name="Subsystem">The bus or class its <c>subsystem</c> link names (<c>pci</c>, <c>css</c>, <c>matrix</c>, <c>mdev</c>…), or null without one.</param>
/// <param name="Driver">The driver its <c>driver</c> link names, or null when none is bound.</param>
/// <param name="IommuGroup">The number its <c>iommu_group</c> link names, or null without one.</param>
public sealed record DeviceLocation(string Path, string? Subsystem, string? Driver, int? IommuGroup);

/// <summary>
/// The mdev sysfs ABI over a filesystem root: <c>/</c> on a real host, or any directory holding a
/// <c>sys/</c> tree (a mounted simulator, a test fixture). Reads tolerate entries that vanish while
/// they are scanned; writes are single <c>write(2)</c> calls, as the kernel needs.
/// </summary>
public sealed partial class SysfsRoot
{
    /// <summary>Uses <paramref name="root"/> as <c>/</c>.</summary>
    /// <param name="root">A directory; <c>/</c> for the running host.</param>
    public SysfsRoot(string root = "/")
    {
        Root = System.IO.Path.GetFullPath(root);
    }

    /// <summary>The directory used as <c>/</c>.</summary>
    public string Root { get; }

    /// <summary>The absolute path of a root-relative one.</summary>
    /// <param name="relative">A path without a leading slash, e.g. <see cref="SysfsPaths.MdevBusClass"/>.</param>
    /// <returns>The path below <see cref="Root"/>.</returns>
    public string PathOf(string relative) => System.IO.Path.Join(Root, relative);

    /// <summary>The names of the registered parents (entries of <c>sys/class/mdev_bus</c>), in byte order.</summary>
    /// <returns>Parent names; none when the class directory does not exist (no mdev support loaded).</returns>
    public IReadOnlyList<string> GetParentNames() => [.. ListNames(PathOf(SysfsPaths.MdevBusClass)).Order(StringComparer.Ordinal)];

    /// <summary>Whether a parent is registered with the mdev core: it has <c>mdev_supported_types</c>.</summary>
    /// <param name="parent">A parent name; names that are not a single path component never are.</param>
    /// <returns>Whether <c>sys/class/mdev_bus/&lt;parent&gt;/mdev_supported_types</c> exists.</returns>
    public bool OffersTypes(string parent) =>
        IsPathComponent(parent) && Directory.Exists(System.IO.Path.Join(ParentPath(parent), SysfsNames.SupportedTypes));

    /// <summary>Whether a parent is registered.</summary>
    /// <param name="parent">A parent name; names that are not a single path component never exist.</param>
    /// <returns>Whether <c>sys/class/mdev_bus/&lt;parent&gt;</c> exists.</returns>
    public bool ParentExists(string parent) => IsPathComponent(parent) && Directory.Exists(ParentPath(parent));

    /// <summary>The types a parent offers, ordered by id.</summary>
    /// <param name="parent">A registered parent.</param>
    /// <returns>The types whose files could be read; a type removed during the scan is left out.</returns>
    /// <exception cref="SysfsException">The parent has no <c>mdev_supported_types</c> (ENOENT) or a file is unreadable.</exception>
    public IReadOnlyList<MdevTypeInfo> GetTypes(string parent)
    {
        var typesDirectory = System.IO.Path.Join(ParentPath(RequireComponent(parent)), SysfsNames.SupportedTypes);
        IEnumerable<string> typeDirectories;
        try
        {
            typeDirectories = Directory.GetDirectories(typesDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SysfsException(SysfsException.ToErrno(e), typesDirectory, e);
        }
        // Type files are opened relative to the types directory: the kernel then walks two components for
        // each, not the whole path through the parent's class link.
        var types = new List<MdevTypeInfo>();
        var typesFd = Native.Descriptor.Open(Native.Libc.AT_FDCWD, typesDirectory, null, Native.Libc.O_PATH | Native.Libc.O_CLOEXEC);
        try
        {
            foreach (var directory in typeDirectories.Order(StringComparer.Ordinal))
            {
                try
                {
                    types.Add(ReadType(typesFd, typesDirectory, System.IO.Path.GetFileName(directory)));
                }
                catch (SysfsException e) when (e.Errno == Errno.ENOENT && !Directory.Exists(directory))
                {
                    // The type vanished while it was read (its driver hid it); the others still stand.
                }
            }
        }
        finally
        {
            _ = Native.Libc.close(typesFd);
        }
        return types;
    }

    /// <summary>
    /// How many more devices of each of a parent's types can be made: only the <c>available_instances</c> files, for a
    /// reader that knows the types already (their other files do not change while the parent is registered).
    /// </summary>
    /// <param name="parent">A registered parent.</param>
    /// <param name="types">The type ids the parent offered, ordered by id.</param>
    /// <returns>The counts in the order of <paramref name="types"/>; null when the parent offers other types now (a driver that hides the types it has no room for, a parent gone).</returns>
    /// <exception cref="SysfsException">A file is unreadable or vanished while it was read.</exception>
    public IReadOnlyList<int>? GetAvailableInstances(string parent, IReadOnlyList<string> types)
    {
        var typesDirectory = System.IO.Path.Join(ParentPath(RequireComponent(parent)), SysfsNames.SupportedTypes);
        if (!ListNames(typesDirectory).Order(StringComparer.Ordinal).SequenceEqual(types, StringComparer.Ordinal))
        {
            return null;
        }
        var counts = new int[types.Count];
        var typesFd = Native.Descriptor.Open(Native.Libc.AT_FDCWD, typesDirectory, null, Native.Libc.O_PATH | Native.Libc.O_CLOEXEC);
        try
        {
            for (var i = 0; i < types.Count; i++)
            {
                counts[i] = ReadAvailableInstances(typesFd, typesDirectory, types[i]);
            }
        }
        finally
        {
            _ = Native.Libc.close(typesFd);
        }
        return counts;
    }

    /// <summary>The devices that exist now, in the order of <c>sys/bus/mdev/devices</c>.</summary>
    /// <returns>Every entry named by a UUID whose parent and type could be resolved; one removed during the scan is left out.</returns>
    public IReadOnlyList<ActiveDevice> GetActiveDevices()
    {
        // Devices share a few type directories: each is checked once per scan, not once per device.
        var typeDirectories = new Dictionary<string, bool>(StringComparer.Ordinal);
        var devices = new List<ActiveDevice>();
        foreach (var name in ListNames(PathOf(SysfsPaths.MdevBusDevices)))
        {
            if (MdevUuid.TryParse(name, out var uuid) && TryGetActiveDevice(uuid, typeDirectories, out var device))
            {
                devices.Add(device);
            }
        }
        return devices;
    }

    /// <summary>Looks up one device by UUID.</summary>
    /// <param name="uuid">The device's UUID.</param>
    /// <param name="device">The device, when it exists and its parent and type resolve.</param>
    /// <returns>Whether the device exists.</returns>
    public bool TryGetActiveDevice(Guid uuid, out ActiveDevice device) => TryGetActiveDevice(uuid, null, out device);

    // knownTypeDirectories remembers, within one scan, which type directories exist.
    private bool TryGetActiveDevice(Guid uuid, Dictionary<string, bool>? knownTypeDirectories, out ActiveDevice device)
    {
        device = null!;
        var link = DevicePath(uuid);
        try
        {
            // sysfs links point straight at their targets (.../<parent>/<uuid>, ../mdev_supported_types/<type>),
            // so the link texts name the parent and the type without resolving every component.
            var deviceTarget = ReadLink(link);
            var deviceDirectory = deviceTarget is null ? link : System.IO.Path.GetFullPath(deviceTarget, System.IO.Path.GetDirectoryName(link)!);
            var typeLink = System.IO.Path.Join(deviceDirectory, SysfsNames.MdevType);
            var typeTarget = ReadLink(typeLink);
            if (typeTarget is null)
            {
                return false;
            }
            var typeDirectory = System.IO.Path.GetFullPath(typeTarget, deviceDirectory);
            if (!TypeDirectoryExists(typeDirectory, knownTypeDirectories))
            {
                // A device half gone, or whose type vanished, while it was listed.
                return false;
            }
            var parent = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(deviceDirectory));
            device = new ActiveDevice(uuid, parent!, System.IO.Path.GetFileName(typeDirectory));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Locates a registered parent: the device directory its <c>sys/class/mdev_bus</c> entry leads to.</summary>
    /// <param name="parent">A parent name.</param>
    /// <returns>The location, or null when the parent is not registered.</returns>
    public DeviceLocation? TryLocateParent(string parent) =>
        IsPathComponent(parent) ? Locate(ParentPath(parent)) : null;

    /// <summary>Locates an active device: the directory below its parent that <c>sys/bus/mdev/devices/&lt;uuid&gt;</c> leads to.</summary>
    /// <param name="uuid">The device's UUID.</param>
    /// <returns>The location, or null when the device does not exist.</returns>
    public DeviceLocation? TryLocateDevice(Guid uuid) => Locate(DevicePath(uuid));

    /// <summary>Locates any device directory, e.g. an ancestor of a parent.</summary>
    /// <param name="devicePath">A root-relative path below <c>sys/devices</c>.</param>
    /// <returns>The location, or null when there is no such directory.</returns>
    public DeviceLocation? TryLocate(string devicePath) => Locate(PathOf(devicePath));

    /// <summary>Reads an attribute of any device directory, e.g. a PCI function's <c>vendor</c>.</summary>
    /// <param name="devicePath">A root-relative device directory, as <see cref="DeviceLocation.Path"/> gives it.</param>
    /// <param name="attribute">The attribute's file name.</param>
    /// <returns>The text without surrounding white space, or null when the attribute does not exist.</returns>
    /// <exception cref="SysfsException">The attribute exists but cannot be read.</exception>
    public string? ReadOptionalAttribute(string devicePath, string attribute) =>
        ReadOptional(System.IO.Path.Join(PathOf(devicePath), RequireComponent(attribute)));

    /// <summary>The devices in an IOMMU group (entries of <c>sys/kernel/iommu_groups/&lt;n&gt;/devices</c>), in byte order.</summary>
    /// <param name="group">The group's number.</param>
    /// <returns>Device names (PCI addresses, mdev UUIDs); none when the group does not exist.</returns>
    public IReadOnlyList<string> GetIommuGroupDevices(int group) =>
        [.. ListNames(PathOf($"{SysfsPaths.IommuGroups}/{group.ToString(CultureInfo.InvariantCulture)}/{SysfsNames.Devices}")).Order(StringComparer.Ordinal)];

    private static bool TypeDirectoryExists(string directory, Dictionary<string, bool>? known)
    {
        if (known is null)
        {
            return Directory.Exists(directory);
        }
        if (!known.TryGetValue(directory, out var exists))
        {
            exists = known[directory] = Directory.Exists(directory);
        }
        return exists;
    }

    /// <summary>Creates a device: writes the UUID, without a newline, to the type's <c>create</c> file.</summary>
    /// <param name="parent">A registered parent.</param>
    /// <param name="type">One of its type ids.</param>
    /// <param name="uuid">The new device's UUID.</param>
    /// <exception cref="SysfsException">The kernel refused, with its errno (EEXIST, EUSERS, ENOSPC, EINVAL…), or the type does not exist (ENOENT).</exception>
    public void CreateDevice(string parent, string type, Guid uuid) =>
        WriteFile(System.IO.Path.Join(ParentPath(RequireComponent(parent)), SysfsNames.SupportedTypes, RequireComponent(type), SysfsNames.Create), MdevUuid.Format(uuid));

    /// <summary>Removes a device: writes <c>1</c> to its <c>remove</c> file.</summary>
    /// <param name="uuid">The device's UUID.</param>
    /// <exception cref="SysfsException">The device does not exist (ENOENT) or the kernel refused.</exception>
    public void RemoveDevice(Guid uuid) => WriteFile(System.IO.Path.Join(DevicePath(uuid), SysfsNames.Remove), "1");

    /// <summary>Writes a vendor attribute of a device, e.g. <c>assign_adapter</c> or <c>nvidia/vgpu_params</c>.</summary>
    /// <param name="uuid">The device's UUID.</param>
    /// <param name="attribute">The attribute's path below the device directory; it may not leave it.</param>
    /// <param name="value">The text to write, as is.</param>
    /// <exception cref="SysfsException">
    /// The attribute does not exist (ENOENT), the name leaves the device directory (EINVAL), a component of it is a
    /// symbolic link (ELOOP: <c>driver</c>, <c>mdev_type</c>… lead to other devices' files), or the driver refused.
    /// </exception>
    public void WriteDeviceAttribute(Guid uuid, string attribute, string value)
    {
        if (!IsAttributeName(attribute))
        {
            throw new SysfsException(Errno.EINVAL, attribute);
        }
        var devicePath = DevicePath(uuid);
        var path = System.IO.Path.Join(devicePath, attribute);
        // The bus entry is the one link followed: it is how the kernel names the device directory.
        var deviceFd = Native.Descriptor.Open(Native.Libc.AT_FDCWD, devicePath, null, Native.Libc.O_PATH | Native.Libc.O_CLOEXEC);
        int fd;
        try
        {
            fd = OpenBeneath(deviceFd, attribute, Native.Libc.O_WRONLY | Native.Libc.O_CLOEXEC, path);
        }
        finally
        {
            _ = Native.Libc.close(deviceFd);
        }
        WriteAndClose(fd, value, path);
    }

    // One write(2), which is what a sysfs store sees: its result is the store's, and close reports nothing more.
    private static unsafe void WriteAndClose(int fd, string text, string path)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            nint written;
            fixed (byte* start = bytes)
            {
                while ((written = Native.Libc.write(fd, start, bytes.Length)) < 0 && Marshal.GetLastPInvokeError() == Native.Libc.EINTR)
                {
                }
            }
            if (written < 0)
            {
                throw new SysfsException((Errno)Marshal.GetLastPInvokeError(), path);
            }
        }
        finally
        {
            _ = Native.Libc.close(fd);
        }
    }

    // Opens a path below a directory without following any symbolic link on the way and without leaving
    // the directory: openat2's RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or the same by hand before Linux 5.6.
    private static unsafe int OpenBeneath(int directoryFd, string relative, int flags, string pathForErrors)
    {
        var how = new Native.Libc.open_how
        {
            flags = (ulong)flags,
            resolve = Native.Libc.RESOLVE_BENEATH | Native.Libc.RESOLVE_NO_SYMLINKS,
        };
        while (true)
        {
            var fd = Native.Libc.syscall(Native.Libc.SYS_openat2, directoryFd, relative, &how, (nuint)sizeof(Native.Libc.open_how));
            if (fd >= 0)
            {
                return (int)fd;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Native.Libc.ENOSYS)
            {
                return OpenBeneathByComponents(directoryFd, relative, flags, pathForErrors);
            }
            if (errno != Native.Libc.EINTR)
            {
                throw new SysfsException((Errno)errno, pathForErrors);
            }
        }
    }

    /// <summary>
    /// <see cref="OpenBeneath"/> for kernels without openat2: one component at a time, none followed if it is a
    /// link (ELOOP, as openat2 says). The components are already known to be plain names (no <c>..</c>).
    /// </summary>
    internal static int OpenBeneathByComponents(int directoryFd, string relative, int flags, string pathForErrors)
    {
        var components = relative.Split('/');
        var current = directoryFd;
        try
        {
            foreach (var component in components[..^1])
            {
                var next = Native.Descriptor.TryOpen(current, component, Native.Libc.O_PATH | Native.Libc.O_NOFOLLOW | Native.Libc.O_CLOEXEC, out var errno);
                if (next < 0)
                {
                    throw new SysfsException(errno, pathForErrors);
                }
                if (current != directoryFd)
                {
                    _ = Native.Libc.close(current);
                }
                current = next;
                if (FileStatus.Of(current, "", Native.Libc.AT_EMPTY_PATH, pathForErrors).Kind == FileKind.SymbolicLink)
                {
                    throw new SysfsException(Errno.ELOOP, pathForErrors);
                }
            }
            var fd = Native.Descriptor.TryOpen(current, components[^1], flags | Native.Libc.O_NOFOLLOW, out var lastErrno);
            return fd >= 0 ? fd : throw new SysfsException(lastErrno, pathForErrors);
        }
        finally
        {
            if (current != directoryFd)
            {
                _ = Native.Libc.close(current);
            }
        }
    }


    // The entry names of a directory, in readdir order, from readdir(3) alone: .NET's enumeration stats
    // every symbolic link to learn whether it leads to a directory, two syscalls per device that nothing needs.
    // A directory that does not exist has no entries, as when mdev support is not loaded.
    private static unsafe List<string> ListNames(string path)
    {
        var names = new List<string>();
        var directory = Native.Libc.opendir(path);
        if (directory == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is Native.Libc.ENOENT or Native.Libc.ENOTDIR ? names : throw new SysfsException((Errno)errno, path);
        }
        try
        {
            byte* entry;
            while ((entry = Native.Libc.readdir(directory)) != null)
            {
                var name = Marshal.PtrToStringUTF8((nint)(entry + Native.Libc.DirentNameOffset))!;
                if (name is not "." and not "..")
                {
                    names.Add(name);
                }
            }
            var error = Marshal.GetLastPInvokeError();
            return error == 0 ? names : throw new SysfsException((Errno)error, path);
        }
        finally
        {
            _ = Native.Libc.closedir(directory);
        }
    }

    // The text of a symbolic link in one readlink(2); null when the path is not a link or does not exist.
    private static unsafe string? ReadLink(string path)
    {
        var buffer = stackalloc byte[4096];
        var length = Native.Libc.readlink(path, buffer, 4096);
        return length < 0 ? null : Encoding.UTF8.GetString(buffer, (int)length);
    }

    // A write to an attribute that must exist, as in sysfs, where nothing can be created: on a plain root
    // a missing attribute is ENOENT too, never a new file.
    private static void WriteFile(string path, string text) =>
        WriteAndClose(Native.Descriptor.Open(Native.Libc.AT_FDCWD, path, null, Native.Libc.O_WRONLY | Native.Libc.O_CLOEXEC), text, path);

    /// <summary>Whether a name can be a device attribute: path components below the device directory, none leaving it.</summary>
    /// <param name="name">A user-supplied attribute name, e.g. <c>nvidia/vgpu_params</c>.</param>
    /// <returns>Whether every <c>/</c>-separated component is one that cannot leave its directory.</returns>
    public static bool IsAttributeName(string name) => name.Split('/').All(IsPathComponent);

    /// <summary>Whether a name is one path component that cannot leave its directory (no <c>/</c>, not <c>.</c> or <c>..</c>, no NUL).</summary>
    /// <param name="name">A user-supplied name.</param>
    /// <returns>Whether it is safe to join onto a directory.</returns>
    public static bool IsPathComponent(string name) =>
        name.Length > 0 && name != "." && name != ".." && !name.Contains('/', StringComparison.Ordinal) && !name.Contains('\0', StringComparison.Ordinal);

    private static MdevTypeInfo ReadType(int typesFd, string typesDirectory, string id)
    {
        string Read(string name) => WholeFile.Read(typesFd, $"{id}/{name}", typesDirectory).Trim();
        string? Optional(string name) => NullIfMissing(() => Read(name));

        var available = ReadAvailableInstances(typesFd, typesDirectory, id);
        return new MdevTypeInfo(id, available, Read(SysfsNames.DeviceApi), Optional(SysfsNames.Name), Optional(SysfsNames.Description));
    }

    private static int ReadAvailableInstances(int typesFd, string typesDirectory, string id) =>
        int.TryParse(WholeFile.Read(typesFd, $"{id}/{SysfsNames.AvailableInstances}", typesDirectory).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var available)
            ? available
            : throw new SysfsException(Errno.EINVAL, System.IO.Path.Join(typesDirectory, id, SysfsNames.AvailableInstances));

    private static string? ReadOptional(string path) => NullIfMissing(() => WholeFile.Read(path).Trim());

    private static string? NullIfMissing(Func<string> read)
    {
        try
        {
            return read();
        }
        catch (SysfsException e) when (e.Errno == Errno.ENOENT)
        {
            return null;
        }
    }

    private DeviceLocation? Locate(string link)
    {
        FileSystemInfo? resolved;
        try
        {
            resolved = new DirectoryInfo(link).ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var directory = resolved?.FullName ?? link;
        if (!Directory.Exists(directory))
        {
            return null;
        }
        var group = LinkName(directory, SysfsNames.IommuGroup);
        return new DeviceLocation(
            System.IO.Path.GetRelativePath(Root, directory),
            LinkName(directory, SysfsNames.Subsystem),
            LinkName(directory, SysfsNames.Driver),
            int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null);
    }

    // The last component of a link's target: what sysfs links name (a bus, a driver, a group number).
    private static string? LinkName(string directory, string link) =>
        ReadLink(System.IO.Path.Join(directory, link)) is { } target ? System.IO.Path.GetFileName(target.TrimEnd('/')) : null;

    private string ParentPath(string parent) => PathOf(SysfsPaths.MdevBusClass + "/" + parent);

    private string DevicePath(Guid uuid) => PathOf(SysfsPaths.MdevBusDevices + "/" + MdevUuid.Format(uuid));

    private static string RequireComponent(string name) =>
        IsPathComponent(name) ? name : throw new SysfsException(Errno.EINVAL, name);
}
