namespace Mdevkit.Agent;

/// <summary>The agent's log lines, generated at compile time.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void Warning(ILogger logger, string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "udev events came faster than they were read, and some were lost")]
    public static partial void EventsLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "changes to definitions may have been missed: {Reason}")]
    public static partial void DefinitionEventsLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "reconcile: {Action}")]
    public static partial void ReconcileAction(ILogger logger, Mdevkit.Management.Reconcile.ReconcileAction action);

    [LoggerMessage(Level = LogLevel.Information, Message = "reconcile drift: {Drift}")]
    public static partial void ReconcileDrift(ILogger logger, Mdevkit.Management.Reconcile.ReconcileDrift drift);

    [LoggerMessage(Level = LogLevel.Warning, Message = "reconcile {State}: {Error}")]
    public static partial void ReconcileFailed(ILogger logger, string state, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a transaction killed halfway was rolled back: {Step}")]
    public static partial void RolledBack(ILogger logger, string step);

    [LoggerMessage(Level = LogLevel.Information, Message = "reloaded {Path}")]
    public static partial void Reloaded(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "configuration not reloaded, the one in use stays: {Reason}")]
    public static partial void NotReloaded(ILogger logger, string reason);
}
