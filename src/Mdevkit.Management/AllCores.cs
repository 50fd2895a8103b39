using System.Runtime.ExceptionServices;

namespace Mdevkit.Management;

/// <summary>Runs the iterations of a loop on every core, for listings that read thousands of small files.</summary>
internal static class AllCores
{
    /// <summary>
    /// Runs <paramref name="body"/> for 0 … <paramref name="count"/> − 1. Each iteration is a few small-file
    /// syscalls, so plain threads that take the next index in turn keep every core in the kernel (the thread
    /// pool and PLINQ cost more to start than a short listing takes). The first failure in index order is
    /// rethrown, as a sequential loop would have thrown it.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        const int MinimumPerThread = 8;
        var failures = new ExceptionDispatchInfo?[count];
        var next = -1;
        void Work()
        {
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    failures[i] = ExceptionDispatchInfo.Capture(e);
                }
            }
        }
        var extraThreads = Math.Max(0, Math.Min(Environment.ProcessorCount, count / MinimumPerThread) - 1);
        var helpers = Enumerable.Range(0, extraThreads).Select(_ => new Thread(Work)).ToArray();
        foreach (var thread in helpers)
        {
            thread.Start();
        }
        Work();
        foreach (var thread in helpers)
        {
            thread.Join();
        }
        failures.FirstOrDefault(failure => failure is not null)?.Throw();
    }
}
