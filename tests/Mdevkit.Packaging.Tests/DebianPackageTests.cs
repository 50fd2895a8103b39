using Mdevkit.TestSupport;

namespace Mdevkit.Packaging.Tests;

/// <summary>
/// The packages of <c>make deb</c>, and <c>make install</c>, in a throw-away copy of this machine: beside and instead
/// of Debian's mdevctl (which scripts/setup.sh installs), driven through the installed commands, removed again.
/// Needs root, unshare and overlayfs, as CI has them.
/// </summary>
public sealed class DebianPackageTests(BuiltPackages packages) : IClassFixture<BuiltPackages>
{
    private const string Directories = "/etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers /usr/lib/mdevctl/scripts.d/callouts /usr/lib/mdevctl/scripts.d/notifiers";
    private const string Names = "/usr/sbin/mdevctl /usr/sbin/lsmdev /usr/bin/mdevctl /usr/bin/lsmdev";
    private const string Agent = "/usr/sbin/mdevkitd /usr/lib/systemd/system/mdevkitd.service /usr/share/man/man8/mdevkitd.8.gz";
    private const string Dra = "/usr/sbin/mdevkit-dra /usr/share/man/man8/mdevkit-dra.8.gz";

    [Fact]
    public void MdevkitBesideDebianMdevctl_ThenMdevkitMdevctlInsteadOfIt_ThenRemoved()
    {
        var run = ThrowawayRoot.Run(packages.Repository, $$"""
            dangling_links >/tmp/links-before
            section "debian mdevctl"; dpkg-query -W -f='${db:Status-Abbrev}\n' mdevctl
            dpkg -i {{packages.Mdevkit}} >&2
            section "debian files"; dpkg --verify mdevctl; dpkg-query -S /usr/bin/mdevctl
            section beside; command -v mdevctl; mdevctl --version; existing /usr/sbin/mdevctl
            section version; mdevkit --version
            section agent; existing {{Agent}}; getent group mdevkit | cut -d: -f1; mdevkitd --help | head -1
            section dra; existing {{Dra}}
            section instead; apt-get install -y {{packages.MdevctlNames}} 2>&1
            section "mdevctl state"; dpkg-query -W -f='${db:Status-Abbrev}\n' mdevctl
            section owners; dpkg-query -S {{Names}} | sort
            section verify; dpkg --verify mdevkit mdevkit-mdevctl
            section directories; existing {{Directories}}
            mdevctl list --defined >/dev/null
            round_trip
            apt-get remove -y mdevkit-mdevctl >&2
            section "names removed"; existing {{Names}}; mdevkit --version
            apt-get remove -y mdevkit >&2
            section audit; dpkg --audit
            section "new dangling links"; dangling_links | comm -13 /tmp/links-before -
            section left; existing /usr/sbin/mdevkit /usr/lib/mdevctl {{Agent}} {{Dra}}
            """);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("ii ", run["debian mdevctl"]);
        // mdevkit alone changes none of mdevctl's files and takes none of its names.
        Assert.Equal("mdevctl: /usr/bin/mdevctl", run["debian files"]);
        Assert.Equal("/usr/bin/mdevctl\nmdevctl 1.2.0", run["beside"]);
        Assert.Equal(packages.Version, run["version"]);
        AssertAgent(run);
        // apt removes Debian's mdevctl before it unpacks mdevkit-mdevctl, so none of mdevctl's files is overwritten.
        var instead = run["instead"].Split('\n');
        var removing = Array.FindIndex(instead, line => line.StartsWith("Removing mdevctl ", StringComparison.Ordinal));
        var unpacking = Array.FindIndex(instead, line => line.StartsWith("Unpacking mdevkit-mdevctl ", StringComparison.Ordinal));
        Assert.True(removing >= 0 && unpacking > removing, run.ToString());
        Assert.DoesNotContain("Replacing files in old package", run["instead"], StringComparison.Ordinal);
        Assert.Equal("un ", run["mdevctl state"]);
        Assert.Equal("mdevkit-mdevctl: /usr/bin/lsmdev\nmdevkit-mdevctl: /usr/bin/mdevctl\nmdevkit-mdevctl: /usr/sbin/lsmdev\nmdevkit-mdevctl: /usr/sbin/mdevctl", run["owners"]);
        Assert.Equal("", run["verify"]);
        Assert.Equal(Directories.Replace(' ', '\n'), run["directories"]);
        AssertRoundTrip(run);
        Assert.Equal(packages.Version, run["names removed"]);
        AssertClean(run);
    }

    [Fact]
    public void WithoutDebianMdevctl_PackagesInstallWorkAndRemove()
    {
        var run = ThrowawayRoot.Run(packages.Repository, $$"""
            dpkg -r mdevctl >&2
            section "left by mdevctl"; existing {{Directories}}
            dangling_links >/tmp/links-before
            getent group mdevkit >/dev/null && groupdel mdevkit
            dpkg -i {{packages.Mdevkit}} {{packages.MdevctlNames}} >&2
            section agent; existing {{Agent}}; getent group mdevkit | cut -d: -f1; mdevkitd --help | head -1
            section dra; existing {{Dra}}
            section directories; existing {{Directories}}
            section "system layout"; mdevctl list --defined >/dev/null && echo runs
            round_trip
            dpkg -r mdevkit-mdevctl >&2
            section "names removed"; existing {{Names}}; mdevkit --version
            dpkg -r mdevkit >&2
            section audit; dpkg --audit
            section "new dangling links"; dangling_links | comm -13 /tmp/links-before -
            section left; existing /usr/sbin/mdevkit /usr/lib/mdevctl {{Agent}} {{Dra}}
            """);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run["left by mdevctl"]);
        AssertAgent(run);
        Assert.Equal(Directories.Replace(' ', '\n'), run["directories"]);
        Assert.Equal("runs", run["system layout"]);
        AssertRoundTrip(run);
        Assert.Equal(packages.Version, run["names removed"]);
        AssertClean(run);
    }

    [Fact]
    public void MakeInstall_WithAndWithoutDebianMdevctl_InstallsWhatDoesNotClash_AndUninstallRemovesOnlyItsOwn()
    {
        const string Installed = $"/usr/sbin/mdevkit {Names} /usr/lib/udev/rules.d/60-mdevkit.rules";
        var run = ThrowawayRoot.Run(packages.Repository, $$"""
            cd {{packages.Repository}}
            section published; if make -q all; then echo "up to date"; else echo "would publish"; fi
            section install; make -s install 2>&1
            section "debian files"; dpkg --verify mdevctl
            section installed; existing {{Installed}}
            make -s uninstall
            section uninstalled; existing {{Installed}}
            dpkg -r mdevctl >&2
            section "install without mdevctl"; make -s install 2>&1; existing {{Installed}}
            make -s uninstall
            section "uninstalled without mdevctl"; existing {{Installed}}
            """);

        Assert.True(run.ExitCode == 0, run.ToString());
        // The repository is read-only in there: make install must find the binary up to date, not publish it again.
        Assert.Equal("up to date", run["published"]);
        Assert.Equal("make install: skipped the mdevctl and lsmdev names and the udev rule, which the installed mdevctl package provides; to have mdevkit take them, run make deb and install artifacts/deb/mdevkit-mdevctl_*.deb (it replaces Debian's mdevctl)", run["install"]);
        Assert.Equal("", run["debian files"]);
        Assert.Equal("/usr/sbin/mdevkit\n/usr/bin/mdevctl\n/usr/bin/lsmdev", run["installed"]);
        Assert.Equal("/usr/bin/mdevctl\n/usr/bin/lsmdev", run["uninstalled"]);
        Assert.Equal("/usr/sbin/mdevkit\n/usr/sbin/mdevctl\n/usr/sbin/lsmdev\n/usr/lib/udev/rules.d/60-mdevkit.rules", run["install without mdevctl"]);
        Assert.Equal("", run["uninstalled without mdevctl"]);
    }

    [Fact]
    public void Lintian_FindsNoErrorsOrWarnings()
    {
        var lintian = CommandRunner.Run("lintian", ["--fail-on", "error,warning", packages.Mdevkit, packages.MdevctlNames]);

        Assert.True(lintian.ExitCode == 0, lintian.Output + lintian.Error);
    }

    private static void AssertRoundTrip(Transcript run)
    {
        const string Device = ThrowawayRoot.DeviceUuid;
        Assert.Contains("  mtty-1\n    Available instances: 24\n", run["types"], StringComparison.Ordinal);
        Assert.Equal($"{Device} mtty mtty-1 manual", run["defined"]);
        Assert.Equal($"{Device} mtty mtty-1 manual (defined)\n23", run["started"]);
        Assert.Equal("", run["stopped"]);
        Assert.Equal("", run["undefined"]);
        Assert.Equal($"{Device} mtty mtty-2 manual", run["sim exec"]);
    }

    // The agent, its unit and man page are there, the group for its socket was made, and the native binary runs;
    // the DRA kubelet plugin and its man page are there too.
    private static void AssertAgent(Transcript run)
    {
        Assert.Equal($"{Agent.Replace(' ', '\n')}\nmdevkit\nDescription:", run["agent"]);
        Assert.Equal(Dra.Replace(' ', '\n'), run["dra"]);
    }

    // dpkg's database is consistent, and nothing of ours is left: no file, no link pointing nowhere.
    private static void AssertClean(Transcript run)
    {
        Assert.Equal("", run["audit"]);
        Assert.Equal("", run["new dangling links"]);
        Assert.Equal("", run["left"]);
    }
}
