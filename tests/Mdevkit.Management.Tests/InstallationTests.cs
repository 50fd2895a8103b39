using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>Which roots are mdevctl installations: mdevctl 1.3's layout, Debian 12's (1.2.0), or neither.</summary>
public sealed class InstallationTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(InstallationTests));

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData("usr/lib/mdevctl/scripts.d")]
    [InlineData("etc/mdevctl.d/scripts.d")]
    public void EitherScriptLayout_MakesAnInstallation(string scripts)
    {
        Directory.CreateDirectory(_root.Join("etc/mdevctl.d"));
        Directory.CreateDirectory(_root.Join($"{scripts}/callouts"));
        Directory.CreateDirectory(_root.Join($"{scripts}/notifiers"));
        var environment = new MdevctlEnvironment(_root.Path);

        environment.CheckInstallation();

        Assert.True(environment.IsInstalled);
    }

    [Fact]
    public void HalfOfEachLayout_IsNoInstallation_AndTheCurrentLayoutsGapIsNamed()
    {
        Directory.CreateDirectory(_root.Join("usr/lib/mdevctl/scripts.d/callouts"));
        Directory.CreateDirectory(_root.Join("etc/mdevctl.d/scripts.d/notifiers"));
        var environment = new MdevctlEnvironment(_root.Path);

        var error = Assert.Throws<MdevctlException>(environment.CheckInstallation);

        Assert.False(environment.IsInstalled);
        Assert.Equal($"Required directory \"{_root.Join("usr/lib/mdevctl/scripts.d/notifiers")}\" doesn't exist. This may indicate a packaging or installation error", error.Message);
    }

    [Fact]
    public void NoConfigDirectory_IsNamedFirst()
    {
        Directory.CreateDirectory(_root.Join("usr/lib/mdevctl/scripts.d/callouts"));
        Directory.CreateDirectory(_root.Join("usr/lib/mdevctl/scripts.d/notifiers"));

        var error = Assert.Throws<MdevctlException>(new MdevctlEnvironment(_root.Path).CheckInstallation);

        Assert.Equal($"Required directory \"{_root.Join("etc/mdevctl.d")}\" doesn't exist. This may indicate a packaging or installation error", error.Message);
    }

    [Fact]
    public void ScriptDirectories_ListTheCurrentLayoutFirst()
    {
        var environment = new MdevctlEnvironment(_root.Path);

        Assert.Equal([_root.Join("usr/lib/mdevctl/scripts.d/callouts"), _root.Join("etc/mdevctl.d/scripts.d/callouts")], environment.CalloutDirectories);
        Assert.Equal([_root.Join("usr/lib/mdevctl/scripts.d/notifiers"), _root.Join("etc/mdevctl.d/scripts.d/notifiers")], environment.NotifierDirectories);
    }
}
