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

    public void Dispose() => _root.Dispose();
}
