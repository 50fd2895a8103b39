namespace Mdevkit.Simulation.Drivers;

/// <summary>
/// A counted resource a driver shares between its devices (mtty's ports, mbochs's megabytes).
/// Taking uses a compare-and-swap loop, as the samples do, so concurrent probes never overcommit.
/// </summary>
internal sealed class ResourcePool(int size)
{
    private int _available = size;

    public int Available => Volatile.Read(ref _available);

    public bool TryTake(int amount)
    {
        while (true)
        {
            var available = Volatile.Read(ref _available);
            if (available < amount)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _available, available - amount, available) == available)
            {
                return true;
            }
        }
    }

    public void Give(int amount) => Interlocked.Add(ref _available, amount);
}
