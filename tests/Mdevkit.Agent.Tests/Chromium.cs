using PuppeteerSharp;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// The system's chromium (Debian's package, which scripts/setup.sh installs), headless, driven over the
/// DevTools protocol. Nothing here downloads a browser: a machine without chromium fails the tests that need it.
/// </summary>
internal static class Chromium
{
    public const string Executable = "/usr/bin/chromium";

    // Headless on a machine without a network or a GPU: no sandbox (root), no GPU process, and none of the
    // background fetches (updates, sync, first-run pages, QUIC probes) that would stall waiting for a network.
    private static readonly string[] s_arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>Starts chromium with a new, empty profile in <paramref name="userDataDirectory"/>.</summary>
    public static Task<IBrowser> LaunchAsync(string userDataDirectory)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"chromium is not installed ({Executable} is missing): scripts/setup.sh installs it, or run apt-get install chromium");
        }
        Directory.CreateDirectory(userDataDirectory);
        return Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            UserDataDir = userDataDirectory,
            Args = s_arguments,
            Timeout = 60_000,
        });
    }
}
