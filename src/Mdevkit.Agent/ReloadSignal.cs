using System.Runtime.InteropServices;

namespace Mdevkit.Agent;

/// <summary>
/// <c>SIGHUP</c>: read again what the agent reads from files. The one hook for it: each part that has something
/// to reload registers here, and the signal no longer ends the process.
/// </summary>
internal sealed class ReloadSignal : IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Action> _handlers = [];
    private PosixSignalRegistration? _registration;

    /// <summary>Runs <paramref name="handler"/> on every <c>SIGHUP</c>.</summary>
    public void OnReload(Action handler)
    {
        lock (_lock)
        {
            _handlers.Add(handler);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Action[] handlers;
            lock (_lock)
            {
                handlers = [.. _handlers];
            }
            foreach (var handler in handlers)
            {
                handler();
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _registration?.Dispose();
        _registration = null;
    }
}
