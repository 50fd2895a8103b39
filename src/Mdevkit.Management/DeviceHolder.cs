using System.Text;
using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// The process that has a running device open: a VMM with the device's VFIO group node (or, for a vendor-specific
/// VFIO vGPU, its function's group or character device) open.
/// </summary>
/// <param name="Pid">The process's id.</param>
/// <param name="Command">Its command name, as <c>/proc/PID/comm</c> gives it (<c>qemu-system-x86</c>).</param>
/// <param name="Domain">The libvirt domain it runs, when its command line names one (<c>-name guest=NAME,…</c>, as libvirt starts QEMU).</param>
public sealed record DeviceHolder(int Pid, string Command, string? Domain)
{
    /// <summary>The holder a process is.</summary>
    public static DeviceHolder Of(NodeHolder process) => new(process.Pid, process.Command, GuestName(process.Arguments));

    // QEMU's -name takes options, commas between them and ",," for a comma in a value; the guest's name is the
    // guest= option, or the first one when it has no key (-name NAME).
    internal static string? GuestName(IReadOnlyList<string> arguments)
    {
        for (var i = 0; i + 1 < arguments.Count; i++)
        {
            if (arguments[i] is not ("-name" or "--name"))
            {
                continue;
            }
            var options = SplitOptions(arguments[i + 1]);
            return options.FirstOrDefault(option => option.StartsWith("guest=", StringComparison.Ordinal))?["guest=".Length..]
                ?? (options.Count > 0 && !options[0].Contains('=', StringComparison.Ordinal) ? options[0] : null);
        }
        return null;
    }

    private static List<string> SplitOptions(string text)
    {
        var options = new List<string>();
        var option = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != ',')
            {
                option.Append(text[i]);
            }
            else if (i + 1 < text.Length && text[i + 1] == ',')
            {
                option.Append(',');
                i++;
            }
            else
            {
                options.Add(option.ToString());
                option.Clear();
            }
        }
        options.Add(option.ToString());
        return options;
    }
}
