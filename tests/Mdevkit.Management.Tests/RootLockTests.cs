using System.Diagnostics;
using Mdevkit.TestSupport;

namespace Mdevkit.Management.Tests;

/// <summary>The root's lock against other processes, which take it as flock(1) does: the same flock(2) on the same file.</summary>
public sealed class RootLockTests : IDisposable
{
    private readonly TempRoot _root = new(nameof(RootLockTests));
    private readonly MdevctlEnvironment _environment;

    public RootLockTests() => _environment = new MdevctlEnvironment(_root.Path);

    public void Dispose() => _root.Dispose();

    private string LockFile => _root.Join("run/mdevkit/lock");

    // Whether another process could take the lock right now, without waiting.
    private bool FreeForAnotherProcess() => CommandRunner.Run("flock", ["--nonblock", LockFile, "true"]).ExitCode == 0;

    [Fact]
    public void Acquire_WhileHeld_AnotherProcessCannotTakeItUntilReleased()
    {
        using (RootLock.Acquire(_environment))
        {
            Assert.False(FreeForAnotherProcess());
        }

        Assert.True(FreeForAnotherProcess());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(_root.Join("run/mdevkit")));
    }

    [Fact]
    public async Task Acquire_HeldByAProcessThatIsKilled_WaitsAndThenGetsIt()
    {
        Directory.CreateDirectory(_root.Join("run/mdevkit"));
        var start = new ProcessStartInfo("sh") { RedirectStandardInput = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        // The shell takes the lock on descriptor 9 and becomes cat, which keeps it: killing cat is killing the holder.
        start.ArgumentList.Add($"exec 9>'{LockFile}'; flock 9; echo held; exec cat");
        using var holder = Process.Start(start)!;
        Assert.Equal("held", holder.StandardOutput.ReadLine());

        // Held and released on one thread, as every holder does.
        var waiting = Task.Run(() =>
        {
            using var acquired = RootLock.Acquire(_environment);
            return FreeForAnotherProcess();
        }, TestContext.Current.CancellationToken);
        Assert.False(FreeForAnotherProcess());
        holder.Kill();
        await holder.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.False(await waiting);
    }

    [Fact]
    public void Acquire_AgainOnTheHoldingThread_NestsAndTellsCalloutsUntilTheOutermostRelease()
    {
        var outer = RootLock.Acquire(_environment);
        using (RootLock.Acquire(_environment))
        {
            Assert.Equal(LockFile, RootLock.HeldByCurrentThread(_environment));
        }
        Assert.Equal(LockFile, RootLock.HeldByCurrentThread(_environment));
        Assert.False(FreeForAnotherProcess());

        outer.Dispose();

        Assert.Null(RootLock.HeldByCurrentThread(_environment));
        Assert.True(FreeForAnotherProcess());
    }
}
