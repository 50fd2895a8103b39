using System.Runtime.InteropServices;

namespace Mdevkit.Agent;

/// <summary>
/// <c>SIGHUP</c> re-reads the configuration, as daemons do (<c>systemctl reload</c>): the one place a reload starts.
/// A file that does not read is logged and the configuration in use stays. The agent's other parts that read files
/// (the reconciler's declaration) register with <see cref="OnReload"/> and are told of every reload, whatever became of
/// the configuration's.
/// </summary>
internal sealed class ConfigurationReloader(AgentConfiguration configuration, ILogger<ConfigurationReloader> logger) : IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Action> _handlers = [];
    private PosixSignalRegistration? _hangup;

    /// <summary>Runs <paramref name="handler"/> on every reload, after the configuration's.</summary>
    public void OnReload(Action handler)
    {
        lock (_lock)
        {
            _handlers.Add(handler);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
        {
            // Handled: the default action of SIGHUP would end the process.
            signal.Cancel = true;
            Reload();
        });
        return Task.CompletedTask;
    }

    public void Reload()
    {
        try
        {
            configuration.Reload();
            Log.Reloaded(logger, configuration.Path ?? "no configuration file");
        }
        catch (AgentException e)
        {
            Log.NotReloaded(logger, e.Message);
        }
        Action[] handlers;
        lock (_lock)
        {
            handlers = [.. _handlers];
        }
        foreach (var handler in handlers)
        {
            handler();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _hangup?.Dispose();
        _hangup = null;
    }
}
