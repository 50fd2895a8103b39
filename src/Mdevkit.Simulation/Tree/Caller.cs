namespace Mdevkit.Simulation.Tree;

/// <summary>The process on whose behalf a filesystem operation runs, as the kernel's <c>current</c> would tell.</summary>
/// <param name="Pid">Process id, the thread group's (0 for in-process callers).</param>
/// <param name="Uid">User id; 0 is root.</param>
/// <param name="Gid">Group id.</param>
public readonly record struct Caller(int Pid, uint Uid, uint Gid)
{
    /// <summary>An in-process caller with root's rights, as tests and the simulator's own commands use.</summary>
    public static Caller Root { get; } = new(0, 0, 0);

    /// <summary>Whether the caller bypasses permission bits (the kernel's CAP_DAC_OVERRIDE for root).</summary>
    public bool IsRoot => Uid == 0;
}
