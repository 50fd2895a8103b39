using Mdevkit.Simulation.Profiles;
using Mdevkit.Sysfs;

namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// A profile's list of AP adapter or domain numbers, as the host's <c>apmask</c>/<c>aqmask</c> are written:
/// comma-separated numbers and inclusive ranges (<c>5-6</c>, <c>4,0x47</c>), each number in <c>kstrtoul</c>
/// base-0 syntax. Empty text is an empty list.
/// </summary>
internal static class IdList
{
    /// <summary>The largest AP number with the extended addressing facility (8-bit adapter and domain ids).</summary>
    public const int MaxId = 255;

    /// <exception cref="ProfileException">An entry is not a number or range of numbers from 0 to <see cref="MaxId"/>.</exception>
    public static SortedSet<int> Parse(string text, string parameter)
    {
        var ids = new SortedSet<int>();
        foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = entry.IndexOf('-', StringComparison.Ordinal);
            var first = Number(dash < 0 ? entry : entry[..dash], entry, parameter);
            var last = dash < 0 ? first : Number(entry[(dash + 1)..], entry, parameter);
            if (last < first)
            {
                throw new ProfileException($"'{parameter}': the range '{entry}' runs backwards");
            }
            for (var id = first; id <= last; id++)
            {
                ids.Add(id);
            }
        }
        return ids;
    }

    private static int Number(string text, string entry, string parameter) =>
        KernelNumber.ParseUnsigned(text.Trim(), out var value) == Errno.None && value <= MaxId
            ? (int)value
            : throw new ProfileException($"'{parameter}': '{entry}' is not a number or range (like 5-6 or 0x47) of ids from 0 to {MaxId}");
}
