using Mdevkit.TestSupport;

namespace Mdevkit.Packaging.Tests;

/// <summary>
/// Runs a bash script (errexit, nounset, pipefail) as root of a throw-away copy of this machine (throwaway-root.sh),
/// with a clean environment, and splits its output into the sections that lines <c>::NAME</c> start.
/// </summary>
internal static class ThrowawayRoot
{
    /// <summary>The device that <c>round_trip</c> defines, starts, stops and undefines.</summary>
    public const string DeviceUuid = "5b6f0c2e-8c1d-4f5e-9a7b-3c2d1e0f9a8b";

    // Shared by the scripts: section markers, which of some paths exist, the links that point nowhere, and a device's
    // life through the installed commands on the installed simulator (always stopped again, so no daemon outlives the script).
    private const string Prelude = $$"""
        section() { echo "::$1"; }
        existing() { for path in "$@"; do if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi; done; }
        dangling_links() { find /usr /etc -xdev -xtype l | sort; }
        round_trip() {
          local uuid={{DeviceUuid}}
          mdevkit sim up --daemon --profile samples >/dev/null
          trap 'mdevkit sim down >/dev/null' EXIT
          export MDEVCTL_ENV_ROOT=/run/mdevkit/sim
          section types; mdevctl types -p mtty
          mdevctl define -u $uuid -p mtty -t mtty-1
          section defined; mdevctl list --defined
          mdevctl start -u $uuid
          section started; lsmdev; cat /run/mdevkit/sim/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/available_instances
          /usr/bin/mdevctl stop -u $uuid
          section stopped; mdevctl list
          mdevctl undefine -u $uuid
          section undefined; mdevctl list --defined
          unset MDEVCTL_ENV_ROOT
          mdevkit sim exec -- mdevctl start -p mtty -t mtty-2 -u $uuid
          section "sim exec"; mdevkit sim exec -- mdevctl list
          trap - EXIT
          mdevkit sim down >/dev/null
        }

        """;

    /// <summary>The script that makes the root and runs a command in it.</summary>
    public static readonly string Script = Path.Join(AppContext.BaseDirectory, "throwaway-root.sh");

    public static Transcript Run(string repository, string script)
    {
        using var scratch = new TempRoot(nameof(ThrowawayRoot));
        var result = CommandRunner.Run("unshare",
        [
            "--mount", "--propagation", "private", "--", Script, scratch.Path, repository,
            "/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive",
            "bash", "-euo", "pipefail", "-c", Prelude + script,
        ], timeout: TimeSpan.FromMinutes(10));
        return new Transcript(result);
    }
}

/// <summary>What a script printed, by section; <see cref="ToString"/> is everything, for failure messages.</summary>
internal sealed class Transcript
{
    private readonly CommandResult _result;
    private readonly Dictionary<string, string> _sections = [];

    public Transcript(CommandResult result)
    {
        _result = result;
        string? name = null;
        foreach (var line in result.Output.Split('\n'))
        {
            if (line.StartsWith("::", StringComparison.Ordinal))
            {
                name = line[2..];
                _sections[name] = "";
            }
            else if (name is not null)
            {
                _sections[name] += line + "\n";
            }
        }
    }

    public int ExitCode => _result.ExitCode;

    /// <summary>The section's lines, without the last newline.</summary>
    public string this[string section] => _sections.TryGetValue(section, out var text) ? text.TrimEnd('\n') : throw new KeyNotFoundException($"no section '{section}' in:\n{this}");

    public override string ToString() => $"exit {_result.ExitCode}\n--- stdout\n{_result.Output}\n--- stderr\n{_result.Error}";
}
