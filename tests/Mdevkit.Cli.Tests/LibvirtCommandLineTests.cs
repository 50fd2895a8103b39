using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>
/// Every command line libvirt sends to mdevctl, run against the real binary under the name mdevctl, with
/// JSON on a real stdin pipe (<c>--jsonfile=/dev/stdin</c>) and the root from MDEVCTL_ENV_ROOT.
/// </summary>
public sealed class LibvirtCommandLineTests : IDisposable
{
    private const string Parent = "0000:00:02.0";
    private const string Gpu = $"sys/devices/pci0000:00/{Parent}";
    private const string Uuid = "d069d019-36ea-4111-8f0a-8c9a70e21366";
    private const string Config = """{"mdev_type":"i915-GVTg_V5_8","start":"manual","attrs":[{"example-attribute-1":"attribute-value-1"}]}""";
    private readonly TempRoot _root = new(nameof(LibvirtCommandLineTests));
    private readonly string _mdevctl;

    public LibvirtCommandLineTests()
    {
        foreach (var directory in new[] { "etc/mdevctl.d", "usr/lib/mdevctl/scripts.d/callouts", "usr/lib/mdevctl/scripts.d/notifiers" })
        {
            Directory.CreateDirectory(_root.Join(directory));
        }
        _root.Parent(Gpu, Parent);
        _root.Type(Gpu, "i915-GVTg_V5_8", 7, "vfio-pci", "GVTg_V5_8", null);
        _mdevctl = _root.Join("bin/mdevctl");
        Directory.CreateDirectory(_root.Join("bin"));
        File.CreateSymbolicLink(_mdevctl, Path.Join(AppContext.BaseDirectory, "mdevkit"));
    }

    private CommandResult Mdevctl(string? stdin, params string[] args) =>
        CommandRunner.Run(_mdevctl, args, stdin, new Dictionary<string, string> { ["MDEVCTL_ENV_ROOT"] = _root.Path });

    [Fact]
    public void DefineFromStdin_ThenListDefinedJson()
    {
        var define = Mdevctl(Config, "define", $"--parent={Parent}", "--jsonfile=/dev/stdin", $"--uuid={Uuid}");
        var list = Mdevctl(null, "list", "--dumpjson", "--defined");

        Assert.Equal(new CommandResult(0, "", ""), define);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains($"\"{Uuid}\": {{\n          \"mdev_type\": \"i915-GVTg_V5_8\",", list.Output, StringComparison.Ordinal);
        Assert.Contains("\"example-attribute-1\": \"attribute-value-1\"", list.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void DefineFromStdin_WithoutUuid_PrintsGeneratedOne()
    {
        var define = Mdevctl("""{"mdev_type":"i915-GVTg_V5_8","start":"manual"}""", "define", $"--parent={Parent}", "--jsonfile=/dev/stdin");

        Assert.Equal(0, define.ExitCode);
        var uuid = define.Output.Trim();
        Assert.True(File.Exists(_root.Join($"etc/mdevctl.d/{Parent}/{uuid}")), define.Output);
    }

    [Fact]
    public void StartTransientFromStdin_WritesCreate()
    {
        var start = Mdevctl("""{"mdev_type":"i915-GVTg_V5_8","start":"manual"}""", "start", $"--parent={Parent}", "--jsonfile=/dev/stdin", $"--uuid={Uuid}");

        Assert.Equal(new CommandResult(0, "", ""), start);
        Assert.Equal(Uuid, File.ReadAllText(_root.Join($"{Gpu}/mdev_supported_types/i915-GVTg_V5_8/create")));
    }

    [Fact]
    public void ModifyDefinedFromStdin_ReplacesConfig_AndAutostartToggles()
    {
        Mdevctl(Config, "define", $"--parent={Parent}", "--jsonfile=/dev/stdin", $"--uuid={Uuid}");

        Assert.Equal(0, Mdevctl("""{"mdev_type":"i915-GVTg_V5_8","start":"auto"}""", "modify", $"--parent={Parent}", "--jsonfile=/dev/stdin", $"--uuid={Uuid}", "--defined").ExitCode);
        Assert.Equal(0, Mdevctl(null, "modify", "--uuid", Uuid, "--manual").ExitCode);
        Assert.Equal(0, Mdevctl(null, "modify", "--uuid", Uuid, "--auto").ExitCode);

        Assert.Equal(new CommandResult(0, $"{Uuid} {Parent} i915-GVTg_V5_8 auto\n", ""), Mdevctl(null, "list", "--defined"));
    }

    [Fact]
    public void StartStopUndefineByUuid()
    {
        Mdevctl("""{"mdev_type":"i915-GVTg_V5_8","start":"manual"}""", "define", $"--parent={Parent}", "--jsonfile=/dev/stdin", $"--uuid={Uuid}");

        Assert.Equal(0, Mdevctl(null, "start", $"--uuid={Uuid}").ExitCode);
        Assert.Equal(0, Mdevctl(null, "undefine", $"--uuid={Uuid}").ExitCode);
        var stop = Mdevctl(null, "stop", $"--uuid={Uuid}");

        // The fixture's create file makes no device, so stop finds none, exactly as mdevctl would say.
        Assert.Equal(new CommandResult(1, "", $"Error: Error removing device {Uuid}\n\nCaused by:\n    No such file or directory (os error 2)\n"), stop);
        Assert.False(File.Exists(_root.Join($"etc/mdevctl.d/{Parent}/{Uuid}")));
    }

    [Fact]
    public void ModifyFeatureProbe_Exits0()
    {
        Assert.Equal(0, Mdevctl(null, "modify", "--defined", "--live", "--jsonfile", "b", "--help").ExitCode);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("""{"mdev_type":"x"}""")]
    [InlineData("""{"mdev_type":"x","start":"auto","attrs":[{"a":1}]}""")]
    [InlineData("""{"mdev_type":"x","start":"auto","attrs":"nope"}""")]
    [InlineData("\u0000\u0001binary")]
    public void HostileJson_FailsWithMessageAndWritesNothing(string json)
    {
        var define = Mdevctl(json, "define", $"--parent={Parent}", "--jsonfile=/dev/stdin", $"--uuid={Uuid}");

        Assert.Equal(1, define.ExitCode);
        Assert.StartsWith("Error: ", define.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_root.Join("etc/mdevctl.d")), entry => !entry.EndsWith("scripts.d", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../../tmp")]
    [InlineData("a/b")]
    [InlineData("scripts.d")]
    public void HostileParent_FailsAndWritesNothingOutsideTheRoot(string parent)
    {
        var define = Mdevctl(null, "define", "-u", Uuid, "-p", parent, "-t", "i915-GVTg_V5_8");

        Assert.Equal(new CommandResult(1, "", $"Error: Invalid parent device name '{parent}'\n"), define);
        Assert.Empty(Directory.GetFiles(_root.Path, Uuid, SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Join(Path.GetTempPath(), Uuid)));
    }

    [Fact]
    public void UnwritableConfigDirectory_FailsCleanly()
    {
        var parentDirectory = _root.Join($"etc/mdevctl.d/{Parent}");
        Directory.CreateDirectory(parentDirectory);
        // A file where the definition would go makes the rename fail, even for root.
        Directory.CreateDirectory(Path.Join(parentDirectory, Uuid));

        var define = Mdevctl(null, "define", "-u", Uuid, "-p", Parent, "-t", "i915-GVTg_V5_8");

        Assert.Equal(1, define.ExitCode);
        Assert.StartsWith($"Error: Failed to write config for device {Uuid}", define.Error, StringComparison.Ordinal);
        Assert.Equal([Path.Join(parentDirectory, Uuid)], Directory.GetFileSystemEntries(parentDirectory));
    }

    public void Dispose() => _root.Dispose();
}
