using System.Globalization;
using System.Text.RegularExpressions;
using Mdevkit.Sysfs;

namespace Mdevkit.Management.Planning;

/// <summary>
/// The framebuffer a vGPU type states: its description's <c>framebuffer=12288M</c> (mdev types), else the size in its
/// name by NVIDIA's naming, <c>NVIDIA L40S-24Q</c> or the MIG-backed <c>NVIDIA H200X-1-18C</c> (GiB before the series letters).
/// </summary>
public static partial class VgpuFramebuffer
{
    private const int MiBPerGiB = 1024;

    /// <summary>The size in MiB, or null when the type states none.</summary>
    public static int? MiB(MdevTypeInfo type)
    {
        if (type.Description is { } description && Described().Match(description) is { Success: true } described)
        {
            return Number(described.Groups["mib"].Value);
        }
        return type.Name is { } name && Named().Match(name) is { Success: true } named && Number(named.Groups["gib"].Value) is { } gib
            ? gib * MiBPerGiB
            : null;
    }

    private static int? Number(string digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is > 0 and < 1 << 20 ? value : null;

    [GeneratedRegex(@"\bframebuffer=(?<mib>[0-9]{1,7})M\b")]
    private static partial Regex Described();

    [GeneratedRegex(@"-(?<gib>[0-9]{1,4})[A-Z]+$")]
    private static partial Regex Named();
}
