using System.Text;
using Mdevkit.Simulation.Profiles;
using Mdevkit.TestSupport;
using PuppeteerSharp;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// The dashboard in a real browser (the system's chromium, headless) against the agent over a FUSE-mounted
/// simulated host: what the kernel does shows on the page without a reload, and the page keeps to its own origin.
/// Set <c>MDEVKIT_SCREENSHOTS</c> to a directory to have the tests save the screenshots docs/agent.md shows.
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private const string Mtty = "6f1f40f4-4a4e-4c5d-9d07-1b2f3a4c5d01";
    private const string Gpu = "0000:3e:00.0";
    private const string Vgpu = "6f1f40f4-4a4e-4c5d-9d07-1b2f3a4c5d02";
    private const string Defined = "6f1f40f4-4a4e-4c5d-9d07-1b2f3a4c5d03";

    // The kernel's samples, one time-sliced NVIDIA GPU and an Intel GPU with GVT-g: every way a parent shares out.
    private const string Profile = """
        {
          "name": "dashboard",
          "description": "A shared pool, independent types, one type per GPU, and GVT-g",
          "parents": [
            { "driver": "mtty" },
            { "driver": "mdpy" },
            { "driver": "nvidia", "address": "0000:3e:00.0" },
            { "driver": "i915", "address": "0000:00:02.0" }
          ]
        }
        """;

    private readonly TempRoot _browserProfile = new(nameof(DashboardTests));
    private AgentFixture _agent = null!;
    private UnixSocketBridge _bridge = null!;
    private IBrowser _browser = null!;
    private IPage _page = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        using var profile = new MemoryStream(Encoding.UTF8.GetBytes(Profile));
        _agent = await AgentFixture.StartAsync(HostProfile.Parse(profile, "the dashboard tests' profile"), nameof(DashboardTests));
        // The agent listens on its Unix socket only, and a browser speaks TCP: the test carries the browser's
        // connections to the socket through a real TCP listener on 127.0.0.1.
        _bridge = new UnixSocketBridge(_agent.Socket);
        _browser = await Chromium.LaunchAsync(_browserProfile.Join("chromium"));
        _page = await _browser.NewPageAsync();
        _page.DefaultTimeout = 60_000;
        await _page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = 900 });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _bridge.DisposeAsync();
        await _agent.DisposeAsync();
        _browserProfile.Dispose();
    }

    // The page loaded, its first read done and its event stream open.
    private async Task<IResponse> OpenAsync()
    {
        var response = await _page.GoToAsync(_bridge.Address.ToString(), WaitUntilNavigation.Load);
        await _page.WaitForSelectorAsync("body[data-loaded] #status[data-state='live']");
        return response;
    }

    private static string TypeBar(string parent, string type) => $"article[data-parent='{parent}'] g[data-type='{type}']";

    private Task<string> AttributeAsync(string selector, string attribute) =>
        _page.EvaluateFunctionAsync<string>("(selector, name) => document.querySelector(selector).getAttribute(name)", selector, attribute);

    private Task WriteAsync(string sysPath, string text) => File.WriteAllTextAsync(Path.Join(_agent.Root.Sys, sysPath), text, Cancellation);

    private async Task ScreenshotAsync(string name, string? selector = null)
    {
        if (Environment.GetEnvironmentVariable("MDEVKIT_SCREENSHOTS") is not { Length: > 0 } directory)
        {
            return;
        }
        Directory.CreateDirectory(directory);
        var path = Path.Join(directory, name);
        if (selector is null)
        {
            await _page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true });
        }
        else
        {
            await (await _page.QuerySelectorAsync(selector)).ScreenshotAsync(path);
        }
    }

    [Fact]
    public async Task KernelChanges_ShowInTablesAndCharts_WithoutReload()
    {
        // A probed pool draws as one bar of units; the other parents as the kernel offers them now.
        using var probed = await _agent.Client.PostAsync("/v1/parents/mtty/probe", null, Cancellation);
        Assert.True(probed.IsSuccessStatusCode, await probed.Content.ReadAsStringAsync(Cancellation));
        await OpenAsync();
        // Survives only as long as the document does: a reload would drop it.
        await _page.EvaluateExpressionAsync("window.sameDocument = true");
        Assert.Equal("0", await AttributeAsync(TypeBar("mtty", "mtty-1"), "data-used"));
        Assert.Equal("available", await AttributeAsync(TypeBar(Gpu, "nvidia-12"), "data-state"));

        await WriteAsync("class/mdev_bus/mtty/mdev_supported_types/mtty-1/create", Mtty + "\n");
        await _page.WaitForSelectorAsync($"#devices tr[data-uuid='{Mtty}'][data-state='running (transient)']");
        await _page.WaitForSelectorAsync(TypeBar("mtty", "mtty-1") + "[data-used='1']");
        // A VMM's part: open the device's VFIO group and touch it; the holder shows until it lets go.
        var group = new FileInfo(Path.Join(_agent.Root.Sys, $"bus/mdev/devices/{Mtty}/iommu_group")).LinkTarget!.Split('/')[^1];
        await using var held = new FileStream(Path.Join(_agent.Root.Dev, $"vfio/{group}"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        held.WriteByte(0);
        await _page.WaitForSelectorAsync($"#devices tr[data-uuid='{Mtty}'][data-state='in use']");
        // The agent finds this process holding it, by its descriptor on the group node, which exists only once the
        // open that told of it has returned: the holder follows the state by a moment.
        var command = (await File.ReadAllTextAsync("/proc/self/comm", Cancellation)).TrimEnd('\n');
        await _page.WaitForFunctionAsync("(uuid, holder) => document.querySelector(`#devices tr[data-uuid='${uuid}']`)?.cells[4].textContent === holder",
            new WaitForFunctionOptions { Timeout = 10_000 }, Mtty, $"{command} (pid {Environment.ProcessId})");
        await WriteAsync($"class/mdev_bus/{Gpu}/mdev_supported_types/nvidia-11/create", Vgpu + "\n");
        await _page.WaitForSelectorAsync(TypeBar(Gpu, "nvidia-11") + "[data-used='1']");
        using var defined = await _agent.Client.PutAsync($"/v1/definitions/mdpy/{Defined}", new StringContent("""{"mdev_type":"mdpy-vga","start":"auto","attrs":[]}"""), Cancellation);
        await _page.WaitForSelectorAsync($"#definitions tr[data-uuid='{Defined}']");
        await _page.WaitForSelectorAsync("#events li[data-type='definition-changed']");

        // Once the GPU runs one type, every other type offers 0 and is drawn as blocked by it.
        var gpuStates = await _page.EvaluateFunctionAsync<string[]>(
            "parent => [...document.querySelectorAll(`article[data-parent='${parent}'] g.type`)].map(g => `${g.dataset.type}=${g.dataset.state}`)", Gpu);
        Assert.Equal(14, gpuStates.Length);
        Assert.All(gpuStates.Where(state => !state.StartsWith("nvidia-11=", StringComparison.Ordinal)), state => Assert.EndsWith("=blocked", state));
        Assert.Equal("auto", await _page.EvaluateFunctionAsync<string>("uuid => document.querySelector(`#definitions tr[data-uuid='${uuid}'] td:nth-child(4)`).textContent", Defined));
        await ScreenshotAsync("dashboard.png");
        await held.DisposeAsync();
        await _page.WaitForSelectorAsync($"#devices tr[data-uuid='{Mtty}'][data-state='running (transient)']");

        await WriteAsync($"bus/mdev/devices/{Mtty}/remove", "1\n");
        await _page.WaitForSelectorAsync($"#devices tr[data-uuid='{Mtty}']", new WaitForSelectorOptions { Hidden = true });
        await _page.WaitForSelectorAsync(TypeBar("mtty", "mtty-1") + "[data-used='0']");
        await _page.WaitForSelectorAsync("#events li[data-type='device-removed']");

        Assert.True(await _page.EvaluateExpressionAsync<bool>("window.sameDocument === true"), "the page was reloaded");
        // Newest first: the removal heads the feed, above what came before it.
        var feed = await _page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#events li')].map(li => li.dataset.type)");
        Assert.Equal("device-removed", feed[0]);
        Assert.Contains("device-added", feed);
        Assert.Contains("definition-changed", feed);
    }

    [Fact]
    public async Task WhatFits_ShowsPlacements_AndWhyTheRestCannotFit()
    {
        await OpenAsync();

        await _page.SelectAsync("#plan-type-1", "nvidia-18");
        await SetCountAsync("#plan-count-1", 2);
        await _page.ClickAsync("#plan-submit");
        var placed = await _page.WaitForSelectorAsync($"#plan-placements tr[data-parent='{Gpu}'][data-type='nvidia-18']");
        Assert.Equal("2", await placed.EvaluateFunctionAsync<string>("row => row.cells[2].textContent"));
        Assert.Null(await _page.QuerySelectorAsync("#plan-unplaced"));

        // An M60 GPU holds four M60-2Q; the fifth has nowhere to go, and the page says why.
        await SetCountAsync("#plan-count-1", 5);
        await _page.ClickAsync("#plan-submit");
        var unplaced = await _page.WaitForSelectorAsync("#plan-unplaced tr[data-type='nvidia-18']");
        Assert.Equal("1", await unplaced.EvaluateFunctionAsync<string>("row => row.cells[1].textContent"));
        Assert.NotEmpty((await unplaced.EvaluateFunctionAsync<string>("row => row.cells[2].textContent")).Trim());
        Assert.Equal("4", await _page.EvaluateFunctionAsync<string>("parent => document.querySelector(`#plan-placements tr[data-parent='${parent}']`).cells[2].textContent", Gpu));
        await ScreenshotAsync("dashboard-plan.png", "#plan-section");
    }

    [Fact]
    public async Task Page_KeepsToItsOwnOrigin_UnderAStrictPolicy()
    {
        var requested = new List<string>();
        var scriptErrors = new List<string>();
        _page.Request += (_, e) => requested.Add(e.Request.Url);
        _page.PageError += (_, e) => scriptErrors.Add(e.Message);
        // Registered before the page's own script, so a blocked inline script or style would be recorded.
        await _page.EvaluateExpressionOnNewDocumentAsync(
            "window.violations = []; document.addEventListener('securitypolicyviolation', e => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`))");

        var response = await OpenAsync();

        Assert.Contains("default-src 'self'", response.Headers["Content-Security-Policy"], StringComparison.Ordinal);
        Assert.NotEmpty(requested);
        Assert.All(requested, url => Assert.StartsWith(_bridge.Address.ToString(), url, StringComparison.Ordinal));
        Assert.Empty(await _page.EvaluateExpressionAsync<string[]>("window.violations"));
        Assert.Empty(scriptErrors);
        // Every form control has a label, every table its column headers, every chart a text alternative.
        Assert.Equal(0, await _page.EvaluateExpressionAsync<int>("[...document.querySelectorAll('input, select')].filter(c => c.labels.length === 0).length"));
        Assert.Equal(0, await _page.EvaluateExpressionAsync<int>("[...document.querySelectorAll('table')].filter(t => t.querySelectorAll('thead th[scope=col]').length === 0).length"));
        Assert.Equal(4, await _page.EvaluateExpressionAsync<int>("document.querySelectorAll('article.parent svg[role=img][aria-label]').length"));
    }

    private async Task SetCountAsync(string selector, int count)
    {
        await _page.ClickAsync(selector, new PuppeteerSharp.Input.ClickOptions { Count = 3 });
        await _page.Keyboard.TypeAsync(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
