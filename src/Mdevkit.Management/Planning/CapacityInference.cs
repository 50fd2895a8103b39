namespace Mdevkit.Management.Planning;

/// <summary>A parent that can be probed: what its types offer now, and throw-away devices made and taken away.</summary>
public interface IProbeTarget
{
    /// <summary>Each type's <c>available_instances</c> now; a type left out offers 0 (some drivers hide such types).</summary>
    IReadOnlyDictionary<string, int> Availability();

    /// <summary>Makes one device of <paramref name="type"/> and returns its UUID.</summary>
    Guid Create(string type);

    /// <summary>Takes a device made by <see cref="Create"/> away again.</summary>
    void Remove(Guid uuid);
}

/// <summary>
/// Learns a parent's capacity model by experiment: one device of each type shows which other types
/// it affects; for a pool, filling each type shows the drops to fit integer costs against, and every
/// availability seen checks the result. Whatever happens, every device made is removed again, newest first.
/// </summary>
public static partial class CapacityInference
{
    /// <summary>Devices of one type made at most while filling, so a parent offering thousands is not swamped.</summary>
    public const int FillLimit = 64;

    private sealed record Observation(string Type, int Count, IReadOnlyDictionary<string, int> Availability);

    /// <summary>Probes <paramref name="target"/>, which must be idle, and returns its model.</summary>
    /// <exception cref="OperationCanceledException">Cancelled; what was made is gone.</exception>
    public static CapacityModel Infer(string parent, IProbeTarget target, CancellationToken cancellation = default)
    {
        var idle = target.Availability();
        var offered = idle.Where(type => type.Value > 0).Select(type => type.Key).ToList();
        var observations = new List<Observation>();
        foreach (var type in offered)
        {
            observations.AddRange(Fill(target, type, 1, cancellation));
        }
        var kind = Classify(idle, offered, observations);
        if (kind == CapacityKind.SharedPool)
        {
            observations.Clear();
            foreach (var type in offered)
            {
                observations.AddRange(Fill(target, type, FillLimit, cancellation));
            }
        }
        var model = kind == CapacityKind.SharedPool
            ? FitPool(parent, idle, observations)
            : new CapacityModel(parent, kind, [.. idle.Select(type => new TypeCapacity(type.Key, type.Value))]);
        return model with { Verified = model.Verified && observations.All(seen => Reproduces(model, seen)) };
    }

    // Makes up to `limit` devices of one type (fewer when it runs out), noting the offer after each; then removes them.
    private static List<Observation> Fill(IProbeTarget target, string type, int limit, CancellationToken cancellation)
    {
        var made = new Stack<Guid>();
        var seen = new List<Observation>();
        try
        {
            var available = 1;
            while (made.Count < limit && available > 0)
            {
                cancellation.ThrowIfCancellationRequested();
                made.Push(target.Create(type));
                var offer = target.Availability();
                seen.Add(new Observation(type, made.Count, offer));
                available = offer.GetValueOrDefault(type);
            }
        }
        finally
        {
            RemoveAll(target, made);
        }
        return seen;
    }

    // Every removal is tried even when one fails, so one stuck device leaves no others behind; the failures are reported together.
    private static void RemoveAll(IProbeTarget target, Stack<Guid> made)
    {
        var failures = new List<Exception>();
        while (made.TryPop(out var uuid))
        {
            try
            {
                target.Remove(uuid);
            }
            catch (Exception e) when (e is MdevctlException or IOException)
            {
                failures.Add(e);
            }
        }
        if (failures.Count > 0)
        {
            throw new MdevctlException("Probe could not remove every device it made", [.. failures.Select(failure => failure.Message)]);
        }
    }

    private static CapacityKind Classify(IReadOnlyDictionary<string, int> idle, List<string> offered, List<Observation> observations)
    {
        var others = (Observation seen) => offered.Where(type => type != seen.Type);
        if (offered.Count < 2 || observations.All(seen => others(seen).All(type => seen.Availability.GetValueOrDefault(type) == idle[type])))
        {
            return CapacityKind.Independent;
        }
        return observations.All(seen => others(seen).All(type => seen.Availability.GetValueOrDefault(type) == 0))
            ? CapacityKind.Exclusive
            : CapacityKind.SharedPool;
    }

    private static bool Reproduces(CapacityModel model, Observation seen) =>
        model.Types.All(type => model.Available(type.Type, new Dictionary<string, int> { [seen.Type] = seen.Count }) == seen.Availability.GetValueOrDefault(type.Type));

    /// <summary>
    /// The smallest integer pool with integer costs that reproduces what was seen: a type offering N on the
    /// idle parent costs more than pool/(N+1) and at most pool/N, and each pair of types must agree with
    /// every drop observed. When no such pool exists (a driver with several resources), costs are the
    /// pool's share per instance, which never promises more than the parent has; the model is then not verified.
    /// </summary>
    private static CapacityModel FitPool(string parent, IReadOnlyDictionary<string, int> idle, List<Observation> observations)
    {
        var offered = idle.Where(type => type.Value > 0).ToList();
        var largest = offered.Max(type => type.Value);
        for (var pool = largest; pool <= Math.Max(256, 2 * largest); pool++)
        {
            var domains = offered.Select(type => Enumerable.Range(pool / (type.Value + 1) + 1, pool / type.Value - pool / (type.Value + 1)).ToArray()).ToArray();
            var costs = new int[offered.Count];
            if (Assign(0))
            {
                return Build(pool, index => costs[index], verified: true);
            }

            bool Assign(int index)
            {
                if (index == offered.Count)
                {
                    return true;
                }
                foreach (var cost in domains[index])
                {
                    costs[index] = cost;
                    if (Enumerable.Range(0, index + 1).All(other => Agrees(index, other) && Agrees(other, index)) && Assign(index + 1))
                    {
                        return true;
                    }
                }
                return false;
            }

            // Whether every observation of type `made` agrees with what `watched` would offer under the costs so far.
            bool Agrees(int made, int watched) => observations.Where(seen => seen.Type == offered[made].Key).All(seen =>
            {
                var left = Math.Max(0, (pool - seen.Count * costs[made]) / costs[watched]);
                var own = offered[watched].Value - (made == watched ? seen.Count : 0);
                return Math.Min(own, left) == seen.Availability.GetValueOrDefault(offered[watched].Key);
            });
        }
        var shares = offered.Aggregate(1L, (lcm, type) => Math.Min(1_000_000, lcm / Gcd(lcm, type.Value) * type.Value));
        return Build((int)shares, index => (int)Math.Ceiling((double)shares / offered[index].Value), verified: false);

        CapacityModel Build(int pool, Func<int, int> cost, bool verified)
        {
            var costOf = offered.Select((type, index) => (type.Key, Cost: cost(index))).ToDictionary(type => type.Key, type => type.Cost);
            // A type the idle parent does not offer can never be made: its cost is the whole pool plus one.
            return new CapacityModel(parent, CapacityKind.SharedPool,
                [.. idle.Select(type => new TypeCapacity(type.Key, type.Value, costOf.TryGetValue(type.Key, out var known) ? known : pool + 1))],
                pool, verified);
        }
    }

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);
}
