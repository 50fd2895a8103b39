using System.Diagnostics;
using System.Text.Json;
using Mdevkit.Sysfs;

namespace Mdevkit.Management;

/// <summary>The point in an operation at which a callout script runs.</summary>
public enum CalloutEvent
{
    /// <summary>Before the operation; a failure stops it (unless forced).</summary>
    Pre,
    /// <summary>After the operation, with its result in the state.</summary>
    Post,
    /// <summary>A change to a running device (versioned scripts only).</summary>
    Live,
    /// <summary>To notifier scripts, after everything.</summary>
    Notify,
    /// <summary>A query (attributes, capabilities).</summary>
    Get,
}

/// <summary>What the operation is.</summary>
public enum CalloutAction
{
    /// <summary>start.</summary>
    Start,
    /// <summary>stop.</summary>
    Stop,
    /// <summary>define.</summary>
    Define,
    /// <summary>undefine.</summary>
    Undefine,
    /// <summary>modify.</summary>
    Modify,
    /// <summary>get attributes of a running device.</summary>
    Attributes,
    /// <summary>get a script's capabilities (its version).</summary>
    Capabilities,
}

/// <summary>
/// mdevctl's callout protocol. Scripts in the callout directories are asked, in sorted order, about a
/// device (<c>-t type -e event -a action -s state -u uuid -p parent</c>, the configuration as JSON on
/// stdin); exit code 2 means "not my type", and the first script that answers otherwise is the one for
/// the rest of the command. A script that reports its capabilities (version 2) is remembered per parent
/// and type. Notifier scripts are all told about every operation. Nothing runs when no script is installed.
/// </summary>
public sealed class Callouts(MdevctlEnvironment environment, TextWriter scriptErrors)
{
    private const int NotMyType = 2;
    private static readonly string[] s_allActions = ["start", "stop", "define", "undefine", "modify", "attributes", "capabilities"];
    private static readonly string[] s_allEvents = ["pre", "post", "notify", "get", "live"];
    private static readonly string[] s_version1Actions = ["start", "stop", "define", "undefine", "modify", "attributes"];
    private static readonly string[] s_version1Events = ["pre", "post", "notify", "get"];
    private readonly Dictionary<(string Parent, string Type), Script?> _versioned = [];
    private string[]? _calloutScripts;
    private string[]? _notifierScripts;

    private sealed record Script(string Path, IReadOnlyCollection<string> Actions, IReadOnlyCollection<string> Events);

    /// <summary>
    /// Runs <paramref name="operation"/> between the pre and post callouts and tells the notifiers.
    /// A failing pre callout stops the operation unless <paramref name="force"/>; a failing post callout is ignored.
    /// </summary>
    /// <exception cref="MdevctlException">The pre callout failed (unforced), or the operation failed.</exception>
    public void Invoke(CalloutAction action, Definition device, bool force, Action operation)
    {
        if (!AnyScripts())
        {
            operation();
            return;
        }
        var configuration = device.Config.ToCompactJson();
        var script = FindVersioned(device);
        var state = "none";
        try
        {
            try
            {
                Call(ref script, CalloutEvent.Pre, action, device, state, configuration);
            }
            catch (MdevctlException e) when (force)
            {
                environment.Warn($"Forcing operation '{Name(action)}' despite callout failure. Error was: {e.Message}");
            }
            try
            {
                operation();
                state = "success";
            }
            catch
            {
                state = "failure";
                throw;
            }
            finally
            {
                try
                {
                    Call(ref script, CalloutEvent.Post, action, device, state, configuration);
                }
                catch (MdevctlException)
                {
                    // mdevctl ignores a failing post callout: the operation's result stands.
                }
            }
        }
        finally
        {
            Notify(action, device, state);
        }
    }

    /// <summary>The attributes a script reports for a running device, or null when no script answers.</summary>
    /// <exception cref="MdevctlException">The script failed or printed something that is not an attribute list.</exception>
    public IReadOnlyList<KeyValuePair<string, string>>? GetAttributes(Definition device)
    {
        if (!AnyScripts())
        {
            return null;
        }
        var script = FindVersioned(device);
        var output = Call(ref script, CalloutEvent.Get, CalloutAction.Attributes, device, "none", stdin: null);
        var text = output?.TrimEnd('\0');
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        try
        {
            using var document = JsonSyntax.Parse(text == "[{}]" ? "[]" : text);
            return DeviceConfig.ParseAttributes(document.RootElement);
        }
        catch (ConfigException e)
        {
            throw new MdevctlException("Invalid JSON received from callout script", e.Message);
        }
    }

    /// <summary>Applies a configuration to a running device through a versioned script (<c>-e live -a modify</c>).</summary>
    /// <exception cref="MdevctlException">No versioned script supports it, or the script failed.</exception>
    public void ModifyLive(Definition device)
    {
        var script = AnyScripts() ? FindVersioned(device) : null;
        if (script is null)
        {
            throw new MdevctlException("No callout script with version support found that supports live modify");
        }
        try
        {
            Call(ref script, CalloutEvent.Live, CalloutAction.Modify, device, "none", device.Config.ToCompactJson());
        }
        finally
        {
            Notify(CalloutAction.Modify, device, "none");
        }
    }

    // Runs the chosen script, or finds the first one in the callout directories that claims the device.
    private string? Call(ref Script? script, CalloutEvent callEvent, CalloutAction action, Definition device, string state, string? stdin)
    {
        if (script is not null)
        {
            if (!script.Actions.Contains(Name(action)))
            {
                throw new MdevctlException($"Script \"{script.Path}\" does not support action '{action}'");
            }
            if (!script.Events.Contains(Name(callEvent)))
            {
                throw new MdevctlException($"Script \"{script.Path}\" does not support event '{callEvent}'");
            }
            var result = Execute(script.Path, callEvent, action, device, state, stdin);
            return result.ExitCode is 0 or null ? result.Output : throw Failure(script.Path, result.ExitCode);
        }
        foreach (var path in CalloutScripts())
        {
            var result = Execute(path, callEvent, action, device, state, stdin);
            if (result.ExitCode is null)
            {
                environment.Warn($"callout script \"{path}\" was terminated by a signal");
                continue;
            }
            if (result.ExitCode == NotMyType)
            {
                continue;
            }
            if (result.ExitCode != 0)
            {
                throw Failure(path, result.ExitCode);
            }
            script = new Script(path, s_version1Actions, s_version1Events);
            return result.Output;
        }
        return null;
    }

    // Asks the scripts, once per parent and type, which one speaks the versioned protocol.
    private Script? FindVersioned(Definition device)
    {
        var key = (device.Parent, device.Config.MdevType);
        if (_versioned.TryGetValue(key, out var known))
        {
            return known;
        }
        var provides = "{\"provides\":{\"version\":2,\"actions\":[" + Quoted(s_allActions) + "],\"events\":[" + Quoted(s_allEvents) + "]}}";
        Script? found = null;
        foreach (var path in CalloutScripts())
        {
            var result = Execute(path, CalloutEvent.Get, CalloutAction.Capabilities, device, "none", provides);
            if (result.ExitCode is null or NotMyType || ParseSupports(path, result.Output) is not { } supported)
            {
                continue;
            }
            found = supported;
            break;
        }
        _versioned[key] = found;
        return found;
    }

    private Script? ParseSupports(string path, string output)
    {
        try
        {
            using var document = JsonDocument.Parse(output.TrimEnd('\0'));
            if (!document.RootElement.TryGetProperty("supports", out var supports) || supports.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var actions = Names(supports, "actions");
            var events = Names(supports, "events");
            if (actions.Except(s_allActions).Any() || events.Except(s_allEvents).Any())
            {
                environment.Warn($"Callout script \"{path}\" provides unknown Action or Event type");
            }
            return new Script(path, actions, events);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string[] Names(JsonElement supports, string property) =>
        supports.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Select(item => item.GetString() ?? "")]
            : [];

    private void Notify(CalloutAction action, Definition device, string state)
    {
        foreach (var path in NotifierScripts())
        {
            // Notifiers cannot change anything: their exit codes are not looked at.
            Execute(path, CalloutEvent.Notify, action, device, state, stdin: null);
        }
    }

    private (int? ExitCode, string Output) Execute(string path, CalloutEvent callEvent, CalloutAction action, Definition device, string state, string? stdin)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (RootLock.HeldByCurrentThread(environment) is { } held)
        {
            start.Environment[RootLock.HeldVariable] = held;
        }
        foreach (var argument in new[] { "-t", device.Config.MdevType, "-e", Name(callEvent), "-a", Name(action), "-s", state, "-u", MdevUuid.Format(device.Uuid), "-p", device.Parent })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            environment.Warn($"cannot run callout script \"{path}\": {e.Message}");
            return (NotMyType, "");
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
            }
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The script closed stdin before reading it all; mdevctl lets that pass.
        }
        process.WaitForExit();
        if (errors.Result.Length > 0)
        {
            scriptErrors.Write($"{Path.GetFileName(path)}: {errors.Result}");
        }
        // .NET reports death by a signal as 128 + the signal, as shells do; mdevctl treats it as "no exit code".
        var exitCode = process.ExitCode is > 128 and <= 128 + 64 ? (int?)null : process.ExitCode;
        return (exitCode, output.Result);
    }

    private bool AnyScripts() => CalloutScripts().Length > 0 || NotifierScripts().Length > 0;

    // Each directory's scripts in sorted order, the current directory before the deprecated one; looked
    // up once, since a listing asks for every device.
    private string[] CalloutScripts() => _calloutScripts ??=
    [
        .. environment.CalloutDirectories.Where(Directory.Exists)
            .SelectMany(directory => Directory.GetFiles(directory).Order(StringComparer.Ordinal)).Where(IsTrusted),
    ];

    // Notifiers run in directory order, as mdevctl runs them.
    private string[] NotifierScripts() => _notifierScripts ??=
        [.. environment.NotifierDirectories.Where(Directory.Exists).SelectMany(Directory.EnumerateFiles).Where(IsTrusted)];

    // A script runs as root: only one that root alone could have put there, as sudo and systemd require of
    // what they run. The script and its directory, and through symbolic links the file they finally lead to and
    // that file's directory, must be root's and writable by no group or other user; anything else is skipped, named.
    private bool IsTrusted(string path)
    {
        // stat follows links, so the first check is of the file a link finally leads to.
        var reason = Distrust(path) ?? Distrust(Path.GetDirectoryName(path)!);
        if (reason is null && File.ResolveLinkTarget(path, returnFinalTarget: true) is { } target)
        {
            reason = Distrust(Path.GetDirectoryName(target.FullName)!);
        }
        if (reason is not null)
        {
            environment.Warn($"Skipping callout script \"{path}\": {reason}");
        }
        return reason is null;
    }

    private static string? Distrust(string path)
    {
        FileStatus status;
        try
        {
            status = FileStatus.Of(path);
        }
        catch (SysfsException e)
        {
            return $"\"{path}\" cannot be checked: {MdevctlException.OsError(e.Errno)}";
        }
        if (status.OwnerId != 0)
        {
            return $"\"{path}\" is owned by uid {status.OwnerId}, not root";
        }
        return (status.Permissions & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0
            ? $"\"{path}\" is writable by {((status.Permissions & UnixFileMode.OtherWrite) != 0 ? "others" : "its group")} (mode {Convert.ToString((int)status.Permissions, 8).PadLeft(4, '0')})"
            : null;
    }

    private static MdevctlException Failure(string path, int? exitCode) =>
        new($"Script '\"{path}\"' failed with status '{exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}'");

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static string Quoted(IEnumerable<string> names) => string.Join(',', names.Select(name => $"\"{name}\""));
}
