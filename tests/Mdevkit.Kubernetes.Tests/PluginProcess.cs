using System.Diagnostics;
using System.Text;

namespace Mdevkit.Kubernetes.Tests;

/// <summary>
/// <c>mdevkit-dra</c> as a DaemonSet runs it: a real process whose log is kept; started, waited on until it serves,
/// stopped with SIGTERM as the kubelet's pod does, or killed with SIGKILL.
/// </summary>
internal sealed class PluginProcess : IAsyncDisposable
{
    public static readonly string Executable = Path.Join(AppContext.BaseDirectory, "mdevkit-dra");
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PluginProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, line) => Received(line.Data);
        _process.ErrorDataReceived += (_, line) => Received(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything it logged so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts it and waits until its host has started, its sockets listening.</summary>
    public static async Task<PluginProcess> StartAsync(IEnumerable<string> arguments)
    {
        var plugin = Start(arguments);
        var ended = plugin._process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(plugin._started.Task, ended).WaitAsync(s_patience, TestContext.Current.CancellationToken);
        Assert.True(first == plugin._started.Task, $"mdevkit-dra ended before it served:\n{plugin.Log}");
        return plugin;
    }

    /// <summary>Starts it without waiting, for a run that is to fail.</summary>
    public static PluginProcess Start(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The plain console format, one line per message, whatever the terminal.
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        return new PluginProcess(Process.Start(start)!);
    }

    /// <summary>Waits for it to end; its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(s_patience, TestContext.Current.CancellationToken);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as a pod's deletion sends, and the exit code.</summary>
    public Task<int> StopAsync()
    {
        Assert.Equal(0, Mdevkit.TestSupport.CommandRunner.Run("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ExitCode);
        return ExitAsync();
    }

    /// <summary>SIGKILL: nothing of it runs after this, not even its cleanup.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await ExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Received(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }
}
