using Mdevkit.Management;
using Mdevkit.TestSupport;

namespace Mdevkit.Cli.Tests;

/// <summary>The mdevctl commands through the command line, on a fixture root given with --root.</summary>
public sealed class MdevctlCommandTests : IDisposable
{
    private const string Parent = "0000:00:02.0";
    private const string Gpu = $"sys/devices/pci0000:00/{Parent}";
    private const string Uuid = "976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9";
    private readonly TempRoot _root = new(nameof(MdevctlCommandTests));

    public MdevctlCommandTests()
    {
        foreach (var directory in new[] { "etc/mdevctl.d", "usr/lib/mdevctl/scripts.d/callouts", "usr/lib/mdevctl/scripts.d/notifiers" })
        {
            Directory.CreateDirectory(_root.Join(directory));
        }
        _root.Parent(Gpu, Parent);
        _root.Type(Gpu, "i915-GVTg_V5_4", 5, "vfio-pci", null, "low_gm_size: 128MB\nhigh_gm_size: 512MB\n");
    }

    private (int Exit, string Output, string Error) Mdevkit(params string[] args) => CliRunner.Run("mdevkit", [.. args, "--root", _root.Path]);

    [Fact]
    public void Types_Text()
    {
        var (exit, output, error) = Mdevkit("types");

        Assert.Equal((0, ""), (exit, error));
        Assert.Equal($"{Parent}\n  i915-GVTg_V5_4\n    Available instances: 5\n    Device API: vfio-pci\n    Description: low_gm_size: 128MB, high_gm_size: 512MB\n", output);
    }

    [Fact]
    public void DefineThenList_ShowsDefinitionAndStoresFile()
    {
        Assert.Equal((0, "", ""), Mdevkit("define", "--uuid", Uuid, "--parent", Parent, "--type=i915-GVTg_V5_4", "-a"));

        Assert.Equal((0, $"{Uuid} {Parent} i915-GVTg_V5_4 auto\n", ""), Mdevkit("list", "-d"));
        Assert.True(File.Exists(_root.Join($"etc/mdevctl.d/{Parent}/{Uuid}")));
    }

    [Fact]
    public void Define_WithoutUuid_PrintsTheNewOne()
    {
        var (exit, output, _) = Mdevkit("define", "-p", Parent, "-t", "i915-GVTg_V5_4");

        Assert.Equal(0, exit);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$", output);
    }

    [Fact]
    public void Define_JsonFromFile_UsesIt()
    {
        var json = _root.Join("config.json");
        File.WriteAllText(json, """{"mdev_type":"i915-GVTg_V5_4","start":"manual","attrs":[{"x":"1"}]}""");

        Assert.Equal(0, Mdevkit("define", "--parent=" + Parent, "--jsonfile=" + json, "--uuid=" + Uuid).Exit);

        Assert.Equal((0, $"{Uuid} {Parent} i915-GVTg_V5_4 manual\n  Attrs:\n    @{{0}}: {{\"x\":\"1\"}}\n", ""), Mdevkit("list", "-dv"));
    }

    [Fact]
    public void Start_Transient_WritesCreate()
    {
        Assert.Equal((0, "", ""), Mdevkit("start", "-u", Uuid, "-p", Parent, "-t", "i915-GVTg_V5_4"));

        Assert.Equal(Uuid, File.ReadAllText(_root.Join($"{Gpu}/mdev_supported_types/i915-GVTg_V5_4/create")));
    }

    [Fact]
    public void RuntimeError_IsMdevctlErrorWithExit1()
    {
        Assert.Equal((1, "", "Error: Unable to find parent device '0000:00:09.0'\n"), Mdevkit("start", "-u", Uuid, "-p", "0000:00:09.0", "-t", "x"));
        Assert.Equal((1, "", "Error: No devices match the specified uuid\n"), Mdevkit("undefine", "-u", Uuid));
    }

    [Fact]
    public void JsonFile_Missing_ExplainsWithCause()
    {
        var (exit, _, error) = Mdevkit("start", "-p", Parent, "--jsonfile", "/nonexistent.json");

        Assert.Equal(1, exit);
        Assert.Equal("Error: Unable to read file \"/nonexistent.json\"\n\nCaused by:\n    No such file or directory (os error 2)\n", error);
    }

    [Fact]
    public void MissingInstallationDirectory_IsRefused()
    {
        Directory.Delete(_root.Join("usr/lib/mdevctl/scripts.d/notifiers"));

        var (exit, _, error) = Mdevkit("list");

        Assert.Equal(1, exit);
        Assert.Equal($"Error: Required directory \"{_root.Join("usr/lib/mdevctl/scripts.d/notifiers")}\" doesn't exist. This may indicate a packaging or installation error\n", error);
    }

    [Fact]
    public void MdevctlPersonality_ParseError_IsClapStyleExit2()
    {
        var (exit, output, error) = CliRunner.Run("mdevctl", "list", "--bogus");

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Equal("error: unexpected argument '--bogus' found\n\nUsage: mdevctl list [OPTIONS]\n\nFor more information, try '--help'.\n", error);
    }

    [Theory]
    [InlineData("stop")]
    [InlineData("stop", "-u", "not-a-uuid")]
    [InlineData("modify", "-u", Uuid)]
    [InlineData("modify", "-u", Uuid, "--addattr", "a")]
    [InlineData("define", "-a")]
    [InlineData("start", "-p", Parent, "-t", "x", "--jsonfile", "f")]
    public void MdevctlPersonality_InvalidCombination_Exit2(params string[] args)
    {
        var (exit, _, error) = CliRunner.Run("mdevctl", args);

        Assert.Equal(2, exit);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void MdevctlPersonality_LibvirtModifyProbe_Exits0()
    {
        Assert.Equal(0, CliRunner.Run("mdevctl", "modify", "--defined", "--live", "--jsonfile", "b", "--help").Exit);
    }

    [Fact]
    public void LsmdevPersonality_IsList()
    {
        var (exit, _, error) = CliRunner.Run("lsmdev", "--bogus");

        Assert.Equal(2, exit);
        Assert.StartsWith("error: unexpected argument '--bogus' found\n\nUsage: lsmdev [OPTIONS]", error, StringComparison.Ordinal);
    }

    // Every file below the root with its content: what an error must leave as it was. The root's lock is left out:
    // a command that may change definitions makes it (empty) before it looks at anything.
    private Dictionary<string, string> Snapshot() => Directory.GetFiles(_root.Path, "*", SearchOption.AllDirectories)
        .Where(path => new FileInfo(path).Length < 1 << 20 && path != _root.Join(MdevkitPaths.LockFile))
        .ToDictionary(path => path, File.ReadAllText);

    private string JsonFile(string text)
    {
        var path = _root.Join("request.json");
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("", "Error: EOF while parsing a value at line 1 column 0\n")]
    [InlineData("""{"mdev_type":"\ud800","start":"manual"}""", "Error: unexpected end of hex escape at line 1 column 21\n")]
    [InlineData("{\"mdev_type\":\"a\\nb\",\"start\":\"manual\"}", "Error: Invalid mdev type 'a\\u{a}b': it contains a control character\n")]
    public void Define_BadJsonFile_IsMdevctlsMessage_AndWritesNothing(string json, string message)
    {
        var path = JsonFile(json);
        var before = Snapshot();

        Assert.Equal((1, "", message), Mdevkit("define", "-u", Uuid, "-p", Parent, "--jsonfile", path));
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void Define_JsonFileNotUtf8_IsRefused()
    {
        var path = _root.Join("request.json");
        File.WriteAllBytes(path, [.. "{\"mdev_type\":\""u8, 0xff, .. "\",\"start\":\"manual\"}"u8]);

        Assert.Equal((1, "", $"Error: Unable to read file \"{path}\"\n\nCaused by:\n    stream did not contain valid UTF-8\n"), Mdevkit("define", "-u", Uuid, "-p", Parent, "--jsonfile", path));
        Assert.False(Directory.Exists(_root.Join($"etc/mdevctl.d/{Parent}")));
    }

    [Fact]
    public void Define_JsonFileOverOneGigabyte_IsTooLarge()
    {
        var path = JsonFile("");
        using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength((1L << 30) + 1);
        }

        Assert.Equal((1, "", $"Error: Unable to read file \"{path}\"\n\nCaused by:\n    File too large (os error 27): a device configuration is at most 1048576 bytes\n"),
            Mdevkit("define", "-u", Uuid, "-p", Parent, "--jsonfile", path));
        Assert.False(Directory.Exists(_root.Join($"etc/mdevctl.d/{Parent}")));
    }

    [Fact]
    public void StoredDefinitionWithLoneSurrogate_IsNamed_AndUndefineForceRemovesIt()
    {
        var path = _root.Join($"etc/mdevctl.d/{Parent}/{Uuid}");
        _root.File($"etc/mdevctl.d/{Parent}/{Uuid}", """{"mdev_type":"\ud800","start":"manual"}""");
        var reason = $"{path}: unexpected end of hex escape at line 1 column 21";

        Assert.Equal((1, "", $"Error: {reason}\n"), Mdevkit("list", "-d"));
        Assert.Equal((1, "", $"Error: {reason} (undefine --force removes it without callout scripts)\n"), Mdevkit("undefine", "-u", Uuid));
        Assert.True(File.Exists(path));
        var (exit, output, error) = Mdevkit("undefine", "-u", Uuid, "--force");
        Assert.Equal((0, ""), (exit, output));
        Assert.EndsWith($"WARN  mdevctl] Removing unreadable definition {reason}; callout scripts not run\n", error, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void StoredDefinitionOverOneGigabyte_IsNamedAsTooLarge()
    {
        var path = _root.Join($"etc/mdevctl.d/{Parent}/{Uuid}");
        _root.File($"etc/mdevctl.d/{Parent}/{Uuid}", "");
        using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength((1L << 30) + 1);
        }

        Assert.Equal((1, "", $"Error: {path}: File too large (os error 27)\n"), Mdevkit("list", "-d"));
    }

    [Theory]
    [InlineData("--addattr", "a", "--value", "b", "--index", "4294967295")]
    [InlineData("--delattr", "--index", "2147483648")]
    public void Modify_IndexBeyondInt_IsInvalidIndex_AndWritesNothing(params string[] change)
    {
        Assert.Equal(0, Mdevkit("define", "-u", Uuid, "-p", Parent, "-t", "i915-GVTg_V5_4").Exit);
        var before = Snapshot();

        Assert.Equal((1, "", $"Error: Attribute index {change[^1]} is invalid\nDevice {Uuid} has no attributes\n"), Mdevkit(["modify", "-u", Uuid, .. change]));
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void SimUp_RootThatIsAFile_IsNamed()
    {
        var file = _root.Join("not-a-directory");
        File.WriteAllText(file, "");

        Assert.Equal((1, "", $"mdevkit: {file} is not a directory; give a directory with --root\n"), CliRunner.Run("mdevkit", "sim", "up", "--root", file));
    }

    [Theory]
    [InlineData(new[] { "hostdev", "not-a-uuid" }, "Error: 'not-a-uuid' is not a UUID (argument <uuid> of hostdev)\n")]
    [InlineData(new[] { "group", "add", "g", "1234" }, "Error: '1234' is not a UUID (argument <UUID> of group add)\n")]
    [InlineData(new[] { "modify", "-u", Uuid, "--delattr", "--index", "4294967296" }, "Error: Invalid value \"4294967296\" for '--index <INDEX>': number too large to fit in target type\n")]
    [InlineData(new[] { "list", "-u", " " + Uuid }, $"Error: Invalid value \" {Uuid}\" for '--uuid <UUID>': invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-zA-Z], found ` ` at 1\n")]
    [InlineData(new[] { "probe" }, "Error: Required argument missing for command: 'probe'.\n")]
    [InlineData(new[] { "bogus" }, "Error: unrecognized command or argument 'bogus'\n")]
    public void MdevkitParseError_IsOneLineExit2(string[] args, string message)
    {
        Assert.Equal((2, "", message), CliRunner.Run("mdevkit", args));
    }

    [Theory]
    [InlineData(Uuid + " ", "` ` at 37")]
    [InlineData(Uuid + "\n", "`\n` at 37")]
    [InlineData("\t" + Uuid, "`\t` at 1")]
    public void MdevctlPersonality_UuidWithWhiteSpace_IsRefusedAsMdevctlDoes(string uuid, string found)
    {
        var quoted = uuid.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);

        Assert.Equal((2, "", $"error: Invalid value \"{quoted}\" for '--uuid <UUID>': invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-zA-Z], found {found}\n\nUsage: mdevctl list [OPTIONS]\n\nFor more information, try '--help'.\n"),
            CliRunner.Run("mdevctl", "list", "-u", uuid));
    }

    [Fact]
    public void ArgumentNotUtf8_IsRefusedExit2()
    {
        byte[][] args = ["define"u8.ToArray(), "-p"u8.ToArray(), [(byte)'m', 0xff], "-t"u8.ToArray(), "x"u8.ToArray()];
        using var output = new StringWriter();
        using var mdevctlError = new StringWriter();
        using var mdevkitError = new StringWriter();

        var mdevctl = MdevkitCommand.Run(args, output, mdevctlError, "mdevctl");
        var mdevkit = MdevkitCommand.Run(args, output, mdevkitError, "mdevkit");

        Assert.Equal((2, "error: Invalid UTF-8 was detected in one or more arguments\n"), (mdevctl, mdevctlError.ToString()));
        Assert.Equal((2, "Error: argument 3 is not valid UTF-8\n"), (mdevkit, mdevkitError.ToString()));
        Assert.Empty(output.ToString());
    }

    [Theory]
    [InlineData("-p", "mt\u0001", "Error: Invalid parent device name 'mt\\u{1}': it contains a control character\n")]
    [InlineData("-t", "x\u0001", "Error: Invalid mdev type 'x\\u{1}': it contains a control character\n")]
    public void Start_NameWithControlCharacter_IsRefused(string option, string value, string message)
    {
        string[] args = option == "-p" ? ["start", "-p", value, "-t", "x"] : ["start", "-p", Parent, "-t", value];

        Assert.Equal((1, "", message), Mdevkit(args));
    }

    [Fact]
    public void UppercaseDefinitionFile_IsSkippedWithMdevctlsWarning()
    {
        _root.File($"etc/mdevctl.d/{Parent}/{Uuid.ToUpperInvariant()}", """{"mdev_type":"i915-GVTg_V5_4","start":"manual"}""");

        var (exit, output, error) = Mdevkit("list", "-d");

        Assert.Equal((0, ""), (exit, output));
        Assert.EndsWith($"WARN  mdevctl] Can't determine uuid for file '{Uuid.ToUpperInvariant()}'\n", error, StringComparison.Ordinal);
    }

    [Fact]
    public void LastResort_IsOneLineWithoutTypeOrStack()
    {
        using var error = new StringWriter();

        var exit = MdevkitCommand.Guarded(error, () => throw new InvalidOperationException("CannotReadIncompleteUTF16"));

        Assert.Equal((1, "Error: internal error in mdevkit; run again with MDEVKIT_DEBUG=1 to see where\n"), (exit, error.ToString()));
    }

    [Fact]
    public void Plan_PartlyPlaced_Exits3()
    {
        var (exit, output, _) = Mdevkit("plan", "9x i915-GVTg_V5_4");

        Assert.Equal(3, exit);
        Assert.Contains("Cannot place:\n  4x i915-GVTg_V5_4: 0000:00:02.0 has no i915-GVTg_V5_4 left\n", output, StringComparison.Ordinal);
        Assert.Equal(0, Mdevkit("plan", "2x i915-GVTg_V5_4").Exit);
    }

    [Fact]
    public void GroupAdd_Undefined_IsRefused()
    {
        Assert.Equal((1, "", $"Error: Mediated device {Uuid} is not defined: only defined devices can join group g\n"), Mdevkit("group", "add", "g", Uuid));
        Assert.False(Directory.Exists(_root.Join("etc/mdevkit/groups")));
    }

    [Fact]
    public void StartGroup_Failure_NamesGroupAndDevice()
    {
        Assert.Equal(0, Mdevkit("define", "-u", Uuid, "-p", "0000:00:09.0", "-t", "x").Exit);
        Assert.Equal(0, Mdevkit("group", "add", "g", Uuid).Exit);

        Assert.Equal((1, "", $"Error: Cannot start group g: device {Uuid}: Unable to find parent device '0000:00:09.0'\n"), Mdevkit("start", "--group", "g"));
    }

    public void Dispose() => _root.Dispose();
}
