using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// vGPUs of NVIDIA's vendor-specific VFIO (vGPU 17 and later: Ada, Hopper, Blackwell), made by writing a type id to
/// a virtual function's <c>nvidia/current_vgpu_type</c>. Each such function is a slot for one vGPU, shown as a parent
/// (the function's address) whose types are <c>nvidia-&lt;id&gt;</c>, as Proxmox names them.
/// </summary>
/// <remarks>
/// The kernel keeps no UUID for these vGPUs, so mdevkit names each: the UUID it was started with is recorded in
/// <c>run/mdevkit/vgpus/&lt;function&gt;</c> with its type id, which lives exactly as long as the function does (both
/// are gone after a reboot). A vGPU made by someone else, or whose record is of another type, is named by a UUID
/// derived from the function's address, so it keeps one name while it runs.
/// </remarks>
internal sealed class VendorVgpus(MdevctlEnvironment environment)
{
    /// <summary>The prefix of the type ids shown for type numbers, <c>nvidia-1155</c> for 1155.</summary>
    public const string TypePrefix = "nvidia-";

    // Fixed: the namespace of the derived UUIDs (RFC 9562 version 5), so one function gets the same name from every run.
    private static readonly Guid s_namespace = new("5c1f0a84-9a3e-4d57-8f1b-2f6c0d3e7a21");

    private SysfsRoot Sysfs => environment.Sysfs;

    /// <summary>The virtual functions that take a vGPU this way, in byte order.</summary>
    public IReadOnlyList<string> SlotNames() => [.. Sysfs.GetPciFunctionNames().Where(Sysfs.HasVendorVgpu)];

    /// <summary>Whether <paramref name="function"/> is such a slot now.</summary>
    public bool IsSlot(string function) => Sysfs.HasVendorVgpu(function);

    /// <summary>
    /// What a slot offers: each creatable type with one instance; a busy slot offers only its own type, with none left.
    /// </summary>
    /// <exception cref="SysfsException">The function's files cannot be read.</exception>
    public IReadOnlyList<MdevTypeInfo> Types(string function)
    {
        var current = Sysfs.GetCurrentVgpuType(function);
        return current != 0
            ? [new MdevTypeInfo(TypeName(current), 0, "vfio-pci", null, null)]
            : [.. Sysfs.GetCreatableVgpuTypes(function).Select(type => new MdevTypeInfo(TypeName(type.Id), 1, "vfio-pci", type.Name, null)).OrderBy(type => type.Id, StringComparer.Ordinal)];
    }

    /// <summary>The vGPUs that run now, one per busy slot; a function that vanishes meanwhile is left out.</summary>
    public IReadOnlyList<ActiveDevice> Active()
    {
        var devices = new List<ActiveDevice>();
        foreach (var function in SlotNames())
        {
            if (TryGetActive(function, out var device))
            {
                devices.Add(device);
            }
        }
        return devices;
    }

    /// <summary>Makes a vGPU of <paramref name="type"/> on a free slot and records its UUID.</summary>
    /// <exception cref="SysfsException">The driver refused (ENOSPC, EBUSY…).</exception>
    /// <exception cref="MdevctlException"><paramref name="type"/> is no <c>nvidia-&lt;id&gt;</c>, or the record cannot be written.</exception>
    public void Create(string function, string type, Guid uuid)
    {
        var id = TypeNumber(type) ?? throw new MdevctlException($"Parent {function} does not support mdev type {type}");
        // Under the root's lock: a record and its vGPU change together, so a listing never pairs one vGPU with another's name.
        using var rootLock = RootLock.Acquire(environment);
        Sysfs.SetCurrentVgpuType(function, id);
        try
        {
            AtomicFile.Write(RecordPath(function), $"{MdevUuid.Format(uuid)} {id.ToString(CultureInfo.InvariantCulture)}\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A vGPU without its name would come back under another one: take it away again.
            Sysfs.SetCurrentVgpuType(function, 0);
            throw MdevctlException.Wrap($"Unable to record the UUID of the vGPU on {function} in {RecordPath(function)}", e);
        }
    }

    /// <summary>Destroys a slot's vGPU and its record.</summary>
    /// <exception cref="SysfsException">The driver refused, e.g. EBUSY while a VM holds the function.</exception>
    public void Remove(string function)
    {
        using var rootLock = RootLock.Acquire(environment);
        Sysfs.SetCurrentVgpuType(function, 0);
        try
        {
            File.Delete(RecordPath(function));
        }
        catch (DirectoryNotFoundException)
        {
            // No vGPU was ever recorded on this root.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The vGPU is gone; a stale record names nothing, since it must match the type that runs.
            environment.Warn($"Unable to remove {RecordPath(function)}: {MdevctlException.OsError(SysfsException.ToErrno(e))}");
        }
    }

    /// <summary>The vGPU on one slot, if it has one.</summary>
    public bool TryGetActive(string function, out ActiveDevice device)
    {
        device = null!;
        int current;
        try
        {
            current = Sysfs.GetCurrentVgpuType(function);
        }
        catch (SysfsException e) when (e.Errno is Errno.ENOENT or Errno.ENODEV)
        {
            return false;
        }
        if (current == 0)
        {
            return false;
        }
        device = new ActiveDevice(RecordedUuid(function, current) ?? DerivedUuid(function), function, TypeName(current));
        return true;
    }

    /// <summary>The type id shown for a type number.</summary>
    public static string TypeName(int id) => TypePrefix + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The type number of a type id shown for one, or null when it is none.</summary>
    public static int? TypeNumber(string type) =>
        type.StartsWith(TypePrefix, StringComparison.Ordinal)
        && int.TryParse(type.AsSpan(TypePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    // The recorded UUID when the record is of the type that runs; a stale or unreadable record names nothing.
    private Guid? RecordedUuid(string function, int current)
    {
        string text;
        try
        {
            text = WholeFile.Read(RecordPath(function));
        }
        catch (SysfsException)
        {
            return null;
        }
        var words = text.Split(' ', 2, StringSplitOptions.TrimEntries);
        return words.Length == 2 && MdevUuid.TryParse(words[0], out var uuid)
            && int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id == current ? uuid : null;
    }

    private string RecordPath(string function) => Sysfs.PathOf($"{MdevkitPaths.VendorVgpuDirectory}/{function}");

    // A name-based UUID (version 5) of the function's address.
    private static Guid DerivedUuid(string function)
    {
        var name = Encoding.UTF8.GetBytes(function);
        var input = new byte[16 + name.Length];
        s_namespace.TryWriteBytes(input, bigEndian: true, out _);
        name.CopyTo(input, 16);
#pragma warning disable CA5350 // SHA-1 is what version 5 UUIDs are defined with; nothing here is secret.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0f) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3f) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
