using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>The callout protocol with real executable scripts that record how they were called.</summary>
public sealed class CalloutTests : IDisposable
{
    private const string Parent = "matrix";
    private const string Callouts = "usr/lib/mdevctl/scripts.d/callouts";
    private const string Notifiers = "usr/lib/mdevctl/scripts.d/notifiers";
    private static readonly Guid s_uuid = Guid.Parse("11111111-1111-0000-0000-000000000000");
    private readonly TempRoot _root = new(nameof(CalloutTests));
    private readonly List<string> _warnings = [];
    private readonly StringWriter _scriptErrors = new();
    private readonly DeviceManager _manager;
    private readonly DeviceInventory _inventory;

    public CalloutTests()
    {
        _root.Parent("sys/devices/vfio_ap/matrix", Parent);
        _root.Type("sys/devices/vfio_ap/matrix", "vfio_ap-passthrough", 65536, "vfio-ap", "VFIO AP Passthrough Device", null);
        var environment = new MdevctlEnvironment(_root.Path, _warnings.Add);
        var store = new DefinitionStore(environment);
        var callouts = new Management.Callouts(environment, _scriptErrors);
        _manager = new DeviceManager(environment, store, callouts);
        _inventory = new DeviceInventory(environment, store, callouts);
    }

    private string Log => File.Exists(_root.Join("calls.log")) ? File.ReadAllText(_root.Join("calls.log")) : "";

    // A script that logs its arguments and stdin, then runs the given shell body.
    private void Script(string directory, string name, string body)
    {
        var log = _root.Join("calls.log");
        _root.File($"{directory}/{name}", $"#!/bin/sh\nstdin=$(cat)\necho \"{name} $* <$stdin>\" >> '{log}'\n{body}\n");
        File.SetUnixFileMode(_root.Join($"{directory}/{name}"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void Define_RunsPreThenPostThenNotifier_WithConfigOnStdin()
    {
        Script(Callouts, "ap.sh", "exit 0");
        Script(Notifiers, "notify.sh", "exit 1");

        _manager.Define(new DefineRequest(s_uuid, Parent, "vfio_ap-passthrough", AutoStart: true));

        var config = """{"mdev_type":"vfio_ap-passthrough","start":"auto","attrs":[]}""";
        var expected =
            "ap.sh -t vfio_ap-passthrough -e get -a capabilities -s none -u 11111111-1111-0000-0000-000000000000 -p matrix " +
            """<{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}>""" + "\n" +
            $"ap.sh -t vfio_ap-passthrough -e pre -a define -s none -u {s_uuid} -p matrix <{config}>\n" +
            $"ap.sh -t vfio_ap-passthrough -e post -a define -s success -u {s_uuid} -p matrix <{config}>\n" +
            $"notify.sh -t vfio_ap-passthrough -e notify -a define -s success -u {s_uuid} -p matrix <>\n";
        Assert.Equal(expected, Log);
        Assert.True(File.Exists(_root.Join($"etc/mdevctl.d/{Parent}/{s_uuid}")));
    }

    [Fact]
    public void PreFailure_StopsOperationUnlessForced()
    {
        Script(Callouts, "fail.sh", "exit 1");
        var path = _root.Join($"{Callouts}/fail.sh");

        var error = Assert.Throws<MdevctlException>(() => _manager.Define(new DefineRequest(s_uuid, Parent, "vfio_ap-passthrough", false)));
        Assert.Equal($"Script '\"{path}\"' failed with status '1'", error.Message);
        Assert.False(File.Exists(_root.Join($"etc/mdevctl.d/{Parent}/{s_uuid}")));

        _manager.Define(new DefineRequest(s_uuid, Parent, "vfio_ap-passthrough", false, Force: true));
        Assert.True(File.Exists(_root.Join($"etc/mdevctl.d/{Parent}/{s_uuid}")));
        Assert.Equal([$"Forcing operation 'define' despite callout failure. Error was: Script '\"{path}\"' failed with status '1'"], _warnings);
    }

    [Fact]
    public void NotMyType_PassesToNextScriptInSortedOrder()
    {
        Script(Callouts, "b-other.sh", "exit 2");
        Script(Callouts, "c-mine.sh", "exit 0");
        Script(Callouts, "d-never.sh", "exit 1");

        _manager.Define(new DefineRequest(s_uuid, Parent, "vfio_ap-passthrough", false));

        var pre = Log.Split('\n').Where(line => line.Contains("-e pre", StringComparison.Ordinal)).Select(line => line.Split(' ')[0]);
        Assert.Equal(["b-other.sh", "c-mine.sh"], pre);
        Assert.DoesNotContain("d-never.sh -t vfio_ap-passthrough -e post", Log, StringComparison.Ordinal);
    }

    // A script that would refuse the define, made untrusted in one way; it must be skipped, named, and the define go on.
    [Theory]
    [InlineData("owner")]
    [InlineData("script mode")]
    [InlineData("directory mode")]
    [InlineData("link target's directory")]
    public void UntrustedScript_IsSkippedWithWarning(string untrusted)
    {
        var script = _root.Join($"{Callouts}/refuse.sh");
        Script(Callouts, "refuse.sh", "exit 1");
        var expected = untrusted switch
        {
            "owner" => Changed(["chown", "65534", script], $"\"{script}\" is owned by uid 65534, not root"),
            "script mode" => Changed(["chmod", "0777", script], $"\"{script}\" is writable by others (mode 0777)"),
            "directory mode" => Changed(["chmod", "0775", _root.Join(Callouts)], $"\"{_root.Join(Callouts)}\" is writable by its group (mode 0775)"),
            _ => LinkedFromWritableDirectory(script),
        };

        _manager.Define(new DefineRequest(s_uuid, Parent, "vfio_ap-passthrough", false));

        Assert.Equal([$"Skipping callout script \"{script}\": {expected}"], _warnings);
        Assert.Equal("", Log);
        Assert.True(File.Exists(_root.Join($"etc/mdevctl.d/{Parent}/{s_uuid}")));
    }

    private static string Changed(string[] command, string reason)
    {
        Assert.Equal(0, CommandRunner.Run(command[0], command[1..]).ExitCode);
        return reason;
    }

    // The script moves to a world-writable directory (as /tmp is) and a link to it takes its place.
    private string LinkedFromWritableDirectory(string script)
    {
        var writable = _root.Join("writable");
        Directory.CreateDirectory(writable);
        File.SetUnixFileMode(writable, (UnixFileMode)0x1FF);
        File.Move(script, Path.Join(writable, "refuse.sh"));
        File.CreateSymbolicLink(script, Path.Join(writable, "refuse.sh"));
        return $"\"{writable}\" is writable by others (mode 0777)";
    }

    [Fact]
    public void ListActive_ShowsAttributesFromScript_AndIgnoresBadOutput()
    {
        _root.Device("sys/devices/vfio_ap/matrix", s_uuid.ToString(), "vfio_ap-passthrough");
        Script(Callouts, "attrs.sh", """[ "$4" = get ] && [ "$6" = attributes ] && printf '[{"assign_adapter":"5"},{"assign_domain":"0xab"}]'; exit 0""");

        var device = Assert.Single(_inventory.Active());

        Assert.Equal([new("assign_adapter", "5"), new("assign_domain", "0xab")], device.Config.Attributes);

        Script(Callouts, "attrs.sh", "echo not json; exit 0");
        Assert.Empty(Assert.Single(_inventory.Active()).Config.Attributes);
    }

    [Fact]
    public void VersionedScript_WithoutLive_RefusesLiveModify()
    {
        _root.Device("sys/devices/vfio_ap/matrix", s_uuid.ToString(), "vfio_ap-passthrough");
        Script(Callouts, "v2.sh", """[ "$6" = capabilities ] && printf '{"supports":{"version":2,"actions":["start","stop","modify"],"events":["pre","post"]}}'; exit 0""");
        var json = ("c.json", """{"mdev_type":"vfio_ap-passthrough","start":"manual","attrs":[]}""");

        var error = Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_uuid, Json: json, Live: true)));

        Assert.Equal($"Script \"{_root.Join($"{Callouts}/v2.sh")}\" does not support event 'Live'", error.Message);
    }

    [Fact]
    public void LiveModify_VersionedScriptReceivesConfig()
    {
        _root.Device("sys/devices/vfio_ap/matrix", s_uuid.ToString(), "vfio_ap-passthrough");
        Script(Callouts, "v2.sh", """[ "$6" = capabilities ] && printf '{"supports":{"version":2,"actions":["modify","capabilities"],"events":["live","get"]}}'; exit 0""");
        var config = """{"mdev_type":"vfio_ap-passthrough","start":"manual","attrs":[{"assign_domain":"4"}]}""";

        _manager.Modify(new ModifyRequest(s_uuid, Json: ("c.json", config), Live: true));

        Assert.Contains($"v2.sh -t vfio_ap-passthrough -e live -a modify -s none -u {s_uuid} -p matrix <{config}>", Log, StringComparison.Ordinal);
    }

    [Fact]
    public void LiveModify_NoScript_ExplainsLikeMdevctl()
    {
        _root.Device("sys/devices/vfio_ap/matrix", s_uuid.ToString(), "vfio_ap-passthrough");

        var error = Assert.Throws<MdevctlException>(() => _manager.Modify(new ModifyRequest(s_uuid, Json: ("c.json", """{"mdev_type":"vfio_ap-passthrough","start":"manual"}"""), Live: true)));

        Assert.Equal("No callout script with version support found that supports live modify", error.Message);
    }

    [Fact]
    public void ScriptStderr_IsPassedOnWithItsName()
    {
        Script(Callouts, "noisy.sh", "echo complaint >&2; exit 0");

        _manager.Define(new DefineRequest(s_uuid, Parent, "vfio_ap-passthrough", false));

        Assert.Contains("noisy.sh: complaint\n", _scriptErrors.ToString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _scriptErrors.Dispose();
        _root.Dispose();
    }
}
