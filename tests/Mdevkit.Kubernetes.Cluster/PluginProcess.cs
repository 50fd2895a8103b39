using System.Diagnostics;
using System.Text;

namespace Mdevkit.Kubernetes.Cluster;

/// <summary>
/// <c>mdevkit-dra</c> as a DaemonSet runs it: a real process whose log is kept; started, waited on until it serves,
/// stopped with SIGTERM as the kubelet's pod does, or killed with SIGKILL. Its waits end when the cancellation it was
/// started with is cancelled, and after a minute with a <see cref="TimeoutException"/>.
/// </summary>
public sealed class PluginProcess : IAsyncDisposable
{
    /// <summary>The plugin's executable, beside the program that references this library (and so the plugin's project).</summary>
    public static readonly string Executable = Path.Join(AppContext.BaseDirectory, "mdevkit-dra");
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _cancellation;

    private PluginProcess(Process process, CancellationToken cancellation)
    {
        _process = process;
        _cancellation = cancellation;
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
    /// <exception cref="InvalidOperationException">It ended before it served.</exception>
    public static async Task<PluginProcess> StartAsync(IEnumerable<string> arguments, CancellationToken cancellation)
    {
        var plugin = Start(arguments, cancellation);
        var ended = plugin._process.WaitForExitAsync(cancellation);
        var first = await Task.WhenAny(plugin._started.Task, ended).WaitAsync(s_patience, cancellation);
        if (first != plugin._started.Task)
        {
            await plugin.DisposeAsync();
            throw new InvalidOperationException($"mdevkit-dra ended before it served:\n{plugin.Log}");
        }
        return plugin;
    }

    /// <summary>Starts it without waiting, for a run that is to fail.</summary>
    public static PluginProcess Start(IEnumerable<string> arguments, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The plain console format, one line per message, whatever the terminal.
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        return new PluginProcess(Process.Start(start)!, cancellation);
    }

    /// <summary>Waits for it to end; its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        await _process.WaitForExitAsync(_cancellation).WaitAsync(s_patience, _cancellation);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as a pod's deletion sends, and the exit code.</summary>
    public Task<int> StopAsync()
    {
        var kill = Mdevkit.TestSupport.CommandRunner.Run("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return kill.ExitCode == 0 ? ExitAsync() : throw new InvalidOperationException($"kill -TERM {_process.Id}: {kill.ExitCode}");
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
