using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>
/// A failed mdevctl operation. The message is mdevctl's, word for word; causes (the errors underneath,
/// outermost first) are shown after it the way mdevctl shows them. The one exception type Management
/// raises: the more specific ones (<see cref="ConfigException"/>, <see cref="Libvirt.NodeDeviceException"/>)
/// derive from it, so a caller renders every failure in one place.
/// </summary>
public class MdevctlException : Exception
{
    /// <summary>An error with mdevctl's message and the causes beneath it.</summary>
    public MdevctlException(string message, params string[] causes) : base(message)
    {
        Causes = causes;
    }

    /// <summary>The errors underneath, outermost first (e.g. "Too many users (os error 87)").</summary>
    public IReadOnlyList<string> Causes { get; }

    /// <summary>An operating-system error as mdevctl prints it: its text and number.</summary>
    public static string OsError(Errno errno) => $"{SysfsException.Describe(errno)} (os error {(int)errno})";

    /// <summary>Wraps a sysfs failure under an mdevctl message.</summary>
    public static MdevctlException Wrap(string message, Exception cause) =>
        new(message, OsError(SysfsException.ToErrno(cause)));

    /// <summary>The whole text mdevctl writes to stderr: <c>Error: …</c> and a <c>Caused by:</c> block.</summary>
    public string Render()
    {
        var text = $"Error: {Message}\n";
        if (Causes.Count == 1)
        {
            text += $"\nCaused by:\n    {Causes[0]}\n";
        }
        else if (Causes.Count > 1)
        {
            text += "\nCaused by:\n" + string.Concat(Causes.Select((cause, index) => $"    {index}: {cause}\n"));
        }
        return text;
    }
}

/// <summary>
/// What was given is malformed (a configuration, a device request, a plan), as opposed to refused by the host's
/// state: the caller's to mend. An API answers it with 400 where a refusal gets 409.
/// </summary>
public class InvalidInputException(string message) : MdevctlException(message);
