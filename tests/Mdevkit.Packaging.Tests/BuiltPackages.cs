using Mdevkit.TestSupport;

namespace Mdevkit.Packaging.Tests;

/// <summary>The repository the tests run from, and the two packages <c>make deb</c> builds from it, once per test class.</summary>
public sealed class BuiltPackages
{
    public BuiltPackages()
    {
        Repository = AppContext.BaseDirectory;
        while (!File.Exists(Path.Join(Repository, "mdevkit.slnx")))
        {
            Repository = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Repository)) ?? throw new InvalidOperationException("mdevkit.slnx not found above the test output");
        }
        // The first run on a fresh clone publishes the native binaries, which takes minutes; make install
        // (tested in a read-only copy) then finds the agent up to date too.
        var deb = CommandRunner.Run("make", ["-C", Repository, "--no-print-directory", "all", "deb"], timeout: TimeSpan.FromMinutes(30));
        if (deb.ExitCode != 0)
        {
            throw new InvalidOperationException($"make deb failed (exit {deb.ExitCode}):\n{deb.Output}\n{deb.Error}");
        }
        Mdevkit = Package("mdevkit");
        MdevctlNames = Package("mdevkit-mdevctl");
        Version = CommandRunner.Run("dpkg-deb", ["--field", Mdevkit, "Version"]).Output.Trim();
    }

    public string Repository { get; }

    /// <summary>The path of <c>mdevkit_VERSION_ARCH.deb</c>.</summary>
    public string Mdevkit { get; }

    /// <summary>The path of <c>mdevkit-mdevctl_VERSION_ARCH.deb</c>.</summary>
    public string MdevctlNames { get; }

    /// <summary>The packages' version, which <c>mdevkit --version</c> must print too.</summary>
    public string Version { get; }

    private string Package(string name) => Assert.Single(Directory.GetFiles(Path.Join(Repository, "artifacts/deb"), $"{name}_*.deb"));
}
