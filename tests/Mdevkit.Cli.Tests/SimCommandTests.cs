namespace Mdevkit.Cli.Tests;

public sealed class SimCommandTests
{
    [Fact]
    public void Sim_DefaultProfile_CreatesAndRemovesOnEveryParentAndRestoresOffer()
    {
        var (exit, output, error) = Run("sim");

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Contains("Simulated host 'default'", output, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", output, StringComparison.Ordinal);
        Assert.EndsWith("The offer is back where it started.\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Sim_ProfileFile_IsLoaded()
    {
        var file = Path.Combine(Path.GetTempPath(), $"#{nameof(SimCommandTests)}_{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "name": "one-mtty", "parents": [ { "driver": "mtty", "ports": 2 } ] }""");
        try
        {
            var (exit, output, _) = Run("sim", "--profile", file);

            Assert.Equal(0, exit);
            Assert.Contains("Simulated host 'one-mtty': 1 parents", output, StringComparison.Ordinal);
            Assert.Contains("mtty-2                   Dual port serial             vfio-pci  available 1\n", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("nosuchprofile", "mdevkit: unknown profile 'nosuchprofile'; built-in profiles: ")]
    [InlineData("/nonexistent/profile.json", "mdevkit: cannot read profile file '/nonexistent/profile.json': ")]
    public void Sim_BadProfile_ExplainsAndFails(string profile, string message)
    {
        var (exit, output, error) = Run("sim", "--profile", profile);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void SimProfiles_ListsBuiltInProfilesWithDescriptions()
    {
        var (exit, output, _) = Run("sim", "profiles");

        Assert.Equal(0, exit);
        Assert.Contains("default ", output, StringComparison.Ordinal);
        Assert.Contains("samples    The kernel's sample drivers: mtty, mdpy and mbochs\n", output, StringComparison.Ordinal);
    }

    private static (int Exit, string Output, string Error) Run(params string[] args) => CliRunner.Run("mdevkit", args);
}
