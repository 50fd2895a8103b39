using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Mdevkit.TestSupport;

namespace Mdevkit.Agent.Tests;

/// <summary>
/// A real process (<c>mdevkitd</c>, or <c>mdevkit</c>) as a service manager or a terminal runs it: its output read line by
/// line as it comes, signals sent with kill(1), killed at the end if it is still running. Every wait gives up after a
/// minute and says what the process had written.
/// </summary>
internal sealed class RunningProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly Channel<string> _output = Channel.CreateUnbounded<string>();
    private readonly Channel<string> _errors = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _transcript = new();

    private RunningProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, line) => Received(_output, "out", line.Data);
        _process.ErrorDataReceived += (_, line) => Received(_errors, "err", line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public static RunningProcess Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return new RunningProcess(Process.Start(start)!);
    }

    /// <summary>The next line of standard output.</summary>
    public Task<string> NextOutputAsync() => NextAsync(_output, _ => true);

    /// <summary>The next line of standard error that satisfies <paramref name="wanted"/>; the ones before it are skipped.</summary>
    public Task<string> NextErrorAsync(Func<string, bool> wanted) => NextAsync(_errors, wanted);

    /// <summary>The next line of standard output that satisfies <paramref name="wanted"/>; the ones before it are skipped.</summary>
    public Task<string> NextOutputAsync(Func<string, bool> wanted) => NextAsync(_output, wanted);

    public void Signal(string name) => Assert.Equal(0, CommandRunner.Run("kill", [$"-{name}", _process.Id.ToString(CultureInfo.InvariantCulture)]).ExitCode);

    /// <summary>Waits for the exit, and for the last of its output to be read.</summary>
    public async Task<int> ExitAsync()
    {
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(s_patience, TestContext.Current.CancellationToken);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Everything it wrote so far, each line marked out or err.</summary>
    public override string ToString()
    {
        lock (_transcript)
        {
            return _transcript.ToString();
        }
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

    private void Received(Channel<string> lines, string stream, string? line)
    {
        if (line is null)
        {
            lines.Writer.TryComplete();
            return;
        }
        lock (_transcript)
        {
            _transcript.Append(CultureInfo.InvariantCulture, $"{stream}: {line}\n");
        }
        lines.Writer.TryWrite(line);
    }

    private async Task<string> NextAsync(Channel<string> lines, Func<string, bool> wanted)
    {
        try
        {
            while (await lines.Reader.WaitToReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(s_patience, TestContext.Current.CancellationToken))
            {
                while (lines.Reader.TryRead(out var line))
                {
                    if (wanted(line))
                    {
                        return line;
                    }
                }
            }
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the line did not come within a minute; the process wrote:\n{this}");
        }
        throw new InvalidOperationException($"the process closed its output; it wrote:\n{this}");
    }
}

/// <summary><c>mdevkitd</c> as systemd runs it: started, and ready once it said READY=1 on its notify socket.</summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    public static readonly string Executable = Path.Join(AppContext.BaseDirectory, "mdevkitd");
    private readonly Socket _manager;

    private AgentProcess(Socket manager, RunningProcess process)
    {
        _manager = manager;
        Process = process;
    }

    public RunningProcess Process { get; }

    /// <summary>Starts the agent with a notify socket at <paramref name="notify"/>, and waits for its READY=1.</summary>
    public static async Task<AgentProcess> StartAsync(string notify, params string[] arguments)
    {
        File.Delete(notify);
        var manager = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        manager.Bind(new UnixDomainSocketEndPoint(notify));
        var agent = new AgentProcess(manager, RunningProcess.Start(Executable, arguments, new Dictionary<string, string> { [SystemdNotifier.SocketVariable] = notify }));
        var ready = await agent.NotificationAsync();
        Assert.True(ready == "READY=1", $"{ready}\n{agent.Process}");
        return agent;
    }

    /// <summary>The next message to the service manager.</summary>
    public async Task<string> NotificationAsync()
    {
        var buffer = new byte[256];
        var length = await _manager.ReceiveAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>Where it serves TCP, as its log says.</summary>
    public async Task<Uri> TcpAddressAsync()
    {
        const string Listening = "Now listening on: ";
        var line = await Process.NextOutputAsync(line => line.Contains(Listening + "http", StringComparison.Ordinal) && !line.Contains("unix:", StringComparison.Ordinal));
        return new Uri(line[(line.IndexOf(Listening, StringComparison.Ordinal) + Listening.Length)..].Trim());
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        _manager.Dispose();
    }
}
