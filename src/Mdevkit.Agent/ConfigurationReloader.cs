using System.Runtime.InteropServices;

namespace Mdevkit.Agent;

/// <summary>
/// <c>SIGHUP</c> re-reads the configuration, as daemons do (<c>systemctl reload</c>): the one place a reload starts.
/// A file that does not read is logged and the configuration in use stays.
/// </summary>
internal sealed class ConfigurationReloader(AgentConfiguration configuration, ILogger<ConfigurationReloader> logger) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _hangup;

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
